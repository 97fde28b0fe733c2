// The issue editor: keyboard move up/down for sections, character counts, Markdown previews, and a warning
// before leaving unsaved work. Sections added with "Add another Section" get their buttons at once and go
// before the closing section ("And lastly…").
(function () {
  "use strict";

  var ROWS = ".inline-related:not(.empty-form)";  // every row but Django's template for new ones

  function renumber(group) {
    // django-admin-sortable2 reads the hidden position inputs when the form is saved.
    group.querySelectorAll(ROWS).forEach(function (row, index) {
      var input = row.querySelector("input[name$='-position']");
      if (input) { input.value = index + 1; }
    });
  }

  function isSaved(row) {
    var id = row.querySelector("input[type=hidden][name$='-id']");
    return Boolean(id && id.value);
  }

  function relabel(group) {
    // Django labels unsaved rows "#N" by their place on the page (inlines.js: updateInlineLabel).
    group.querySelectorAll(ROWS).forEach(function (row, index) {
      var label = row.querySelector(".inline_label");
      if (label && !isSaved(row)) { label.textContent = label.textContent.replace(/#\d+/g, "#" + (index + 1)); }
    });
  }

  function reindex(group) {
    // A formset's saved rows must keep the first indexes (0 … INITIAL_FORMS-1): Django finds each by the
    // id posted at its index. After a row is removed Django renames every row by its place on the page,
    // which is wrong once a new row stands above a saved one (as before the closing section). Rename again:
    // saved rows first, then new ones, each in page order.
    var prefix = group.id.replace(/-group$/, "");
    var pattern = new RegExp("(" + prefix + "-(\\d+|__prefix__))", "g");
    var rows = Array.prototype.slice.call(group.querySelectorAll(ROWS));
    var ordered = rows.filter(isSaved).concat(rows.filter(function (row) { return !isSaved(row); }));
    ordered.forEach(function (row, index) {
      var replacement = prefix + "-" + index;
      [row].concat(Array.prototype.slice.call(row.querySelectorAll("*"))).forEach(function (el) {
        ["id", "name", "for", "aria-describedby", "aria-labelledby"].forEach(function (attribute) {
          var value = el.getAttribute(attribute);
          if (value) { el.setAttribute(attribute, value.replace(pattern, replacement)); }
        });
      });
    });
  }

  function kindOf(row) {
    var select = row.querySelector("select[name$='-kind']");
    return select ? select.value : "";
  }

  function addMoveButtons(group) {
    group.querySelectorAll(ROWS).forEach(function (row) {
      var heading = row.querySelector("h3");
      if (!heading || heading.querySelector(".move-buttons")) { return; }
      var box = document.createElement("span");
      box.className = "move-buttons";
      [["up", "Move up"], ["down", "Move down"]].forEach(function (pair) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "move-" + pair[0];
        button.textContent = pair[1];
        button.addEventListener("click", function () {
          var sibling = pair[0] === "up" ? row.previousElementSibling : row.nextElementSibling;
          while (sibling && !sibling.classList.contains("inline-related")) {
            sibling = pair[0] === "up" ? sibling.previousElementSibling : sibling.nextElementSibling;
          }
          if (!sibling || sibling.classList.contains("empty-form")) { return; }
          if (pair[0] === "up") { sibling.before(row); } else { sibling.after(row); }
          renumber(group);
          relabel(group);
          markDirty();
          button.focus();
        });
        box.appendChild(button);
      });
      heading.appendChild(box);
    });
  }

  function addCounters() {
    document.querySelectorAll("input[data-count]").forEach(function (input) {
      var limit = parseInt(input.dataset.count, 10);
      var counter = document.createElement("span");
      counter.className = "char-count";
      counter.setAttribute("aria-live", "polite");
      function update() {
        counter.textContent = input.value.length + " characters" + (input.value.length > limit ? " (over " + limit + ", may be cut off)" : "");
        counter.classList.toggle("over", input.value.length > limit);
      }
      input.after(counter);
      input.addEventListener("input", update);
      update();
    });
  }

  function addMarkdownPreviews(form, container) {
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    var url = form.dataset.markdownPreview || "/admin/editor/markdown-preview/";
    container.querySelectorAll("textarea[name$='body_markdown'], textarea[name=intro], textarea[name=sign_off]").forEach(function (area) {
      if (area.closest(".empty-form") || area.parentNode.querySelector(".markdown-preview-button")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "markdown-preview-button";
      button.textContent = "Preview";
      var output = document.createElement("div");
      output.className = "markdown-preview";
      output.setAttribute("aria-live", "polite");
      output.hidden = true;
      button.addEventListener("click", function () {
        var body = new URLSearchParams();
        body.append("text", area.value);
        fetch(url, {method: "POST", body: body, credentials: "same-origin",
                    headers: {"X-CSRFToken": csrf ? csrf.value : ""}})
          .then(function (response) { return response.text(); })
          .then(function (html) { output.innerHTML = html; output.hidden = false; });
      });
      var box = document.createElement("div");
      box.className = "markdown-preview-box";
      box.append(button, output);
      area.after(box);
    });
  }

  var dirty = false;
  function markDirty() { dirty = true; }

  function isSectionGroup(group) {
    return Boolean(group && group.querySelector("input[name$='-position']") && group.querySelector("select[name$='-kind']"));
  }

  // Django (5.x) dispatches "formset:added" on the new row, bubbling, once the row is on the page.
  document.addEventListener("formset:added", function (event) {
    var row = event.target;
    var form = row.closest && row.closest("#issue_form");
    var group = row.closest && row.closest(".inline-group");
    if (!form || !isSectionGroup(group)) { return; }
    var closing = Array.prototype.slice.call(group.querySelectorAll(ROWS)).filter(function (other) {
      return other !== row && kindOf(other) === "closing";
    })[0];
    if (closing) { closing.before(row); }
    renumber(group);
    relabel(group);
    addMoveButtons(group);
    addMarkdownPreviews(form, row);
    markDirty();
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  });

  document.addEventListener("formset:removed", function (event) {
    var group = document.getElementById(event.detail.formsetName + "-group");
    if (!isSectionGroup(group) || !group.closest("#issue_form")) { return; }
    // Django renames the remaining rows after it dispatches this event: put things right once it has.
    window.setTimeout(function () {
      reindex(group);
      renumber(group);
      relabel(group);
    }, 0);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("#issue_form");
    if (!form) { return; }
    form.querySelectorAll(".inline-group").forEach(function (group) {
      if (group.querySelector("input[name$='-position']")) { addMoveButtons(group); }
    });
    addCounters();
    addMarkdownPreviews(form, form);
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });
})();
