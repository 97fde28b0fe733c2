// Delivery progress on the issue page and on Review and send: poll the admin's JSON endpoint while the issue
// is sending (or scheduled), and stop once it is not. An element named by data-status-target gets the
// status label ("Sending", "Sent", "Paused") too.
(function () {
  "use strict";
  var INTERVAL = 2000;
  var RETRY = 5000;

  function show(el, p) {
    el.textContent = p.total + " total · " + p.sent + " sent · " + p.failed + " failed · " +
      p.pending + " pending · " + p.skipped + " skipped · " + p.rate + "/s · " + p.status;
    var target = el.dataset.statusTarget && document.getElementById(el.dataset.statusTarget);
    if (target && p.status_label && target.textContent !== p.status_label) { target.textContent = p.status_label; }
  }

  function poll(el) {
    fetch(el.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (p) {
        show(el, p);
        if (p.status === "sending" || p.status === "scheduled") { setTimeout(function () { poll(el); }, INTERVAL); }
      })
      .catch(function () { setTimeout(function () { poll(el); }, RETRY); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".delivery-progress[data-url]").forEach(poll);
  });
})();
