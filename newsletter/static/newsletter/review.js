// Tabs for the review page's previews (keyboard: arrow keys move between tabs).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var tabs = Array.prototype.slice.call(document.querySelectorAll("#review [role=tab]"));
    function select(tab) {
      tabs.forEach(function (t) {
        var selected = t === tab;
        t.setAttribute("aria-selected", selected ? "true" : "false");
        t.tabIndex = selected ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
      });
      tab.focus();
    }
    tabs.forEach(function (tab, index) {
      tab.tabIndex = tab.getAttribute("aria-selected") === "true" ? 0 : -1;
      tab.addEventListener("click", function () { select(tab); });
      tab.addEventListener("keydown", function (event) {
        if (event.key === "ArrowRight") { select(tabs[(index + 1) % tabs.length]); }
        if (event.key === "ArrowLeft") { select(tabs[(index - 1 + tabs.length) % tabs.length]); }
      });
    });
  });
})();
