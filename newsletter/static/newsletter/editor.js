// The issue editor: keyboard move up/down for sections, character counts, and a warning before leaving unsaved work.
(function () {
  "use strict";

  function renumber(group) {
    // django-admin-sortable2 reads the hidden position inputs when the form is saved.
    var rows = group.querySelectorAll(".inline-related:not(.empty-form)");
    rows.forEach(function (row, index) {
      var input = row.querySelector("input[name$='-position']");
      if (input) { input.value = index + 1; }
    });
  }

  function addMoveButtons(group) {
    group.querySelectorAll(".inline-related:not(.empty-form)").forEach(function (row) {
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

  function addMarkdownPreviews(form) {
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    var url = form.dataset.markdownPreview || "/admin/editor/markdown-preview/";
    form.querySelectorAll("textarea[name$='body_markdown'], textarea[name=intro], textarea[name=sign_off]").forEach(function (area) {
      if (area.closest(".empty-form")) { return; }
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
      area.after(button, output);
    });
  }

  var dirty = false;
  function markDirty() { dirty = true; }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("#issue_form");
    if (!form) { return; }
    form.querySelectorAll(".inline-group").forEach(function (group) {
      if (group.querySelector("input[name$='-position']")) { addMoveButtons(group); }
    });
    addCounters();
    addMarkdownPreviews(form);
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });
})();
