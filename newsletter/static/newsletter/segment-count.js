// A segment's change form (newsletter/admin/segments.py): the "Subscribers in it now" count follows the criteria
// as they are edited. It asks the count endpoint (GET, JSON, behind the admin's login) a moment after the last
// change, and shows the answer in the <output id="segment-count"> (aria-live, so screen readers hear it). The
// page's Content-Security-Policy allows only scripts from the site: this file, no inline script. Without it the
// count is the one the page was rendered with, and saving shows the new one.
(function () {
  "use strict";

  var FIELDS = ["newsletter", "topics", "subscribed_since", "method", "domain"];
  var timer = null;
  var asked = 0;

  function query(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (FIELDS.indexOf(name) !== -1 && value !== "") { params.append(name, value); }
    });
    return params;
  }

  function refresh(output) {
    var form = output.closest("form");
    var params = query(form);
    var ask = ++asked;
    if (!params.get("newsletter")) { output.textContent = "Choose a newsletter"; return; }
    fetch(output.dataset.countUrl + "?" + params.toString(), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (ask !== asked) { return; }  // an older answer arriving late
        if (typeof data.count === "number") {
          output.textContent = data.count.toLocaleString("en-GB") + (data.count === 1 ? " subscriber" : " subscribers");
        } else {
          output.textContent = "Check the criteria";
        }
      })
      .catch(function () { if (ask === asked) { output.textContent = "Count unavailable"; } });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var output = document.getElementById("segment-count");
    if (!output || !output.closest("form")) { return; }
    var later = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { refresh(output); }, 250);
    };
    output.closest("form").addEventListener("input", later);
    output.closest("form").addEventListener("change", later);
    refresh(output);
  });
})();
