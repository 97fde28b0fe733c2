// Delivery progress on the issue page: poll the admin's JSON endpoint while the issue is sending.
(function () {
  "use strict";
  function poll(el) {
    fetch(el.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        el.textContent = p.total + " total · " + p.sent + " sent · " + p.failed + " failed · " +
          p.pending + " pending · " + p.skipped + " skipped · " + p.rate + "/s · " + p.status;
        if (p.status === "sending" || p.status === "scheduled") { setTimeout(function () { poll(el); }, 2000); }
      })
      .catch(function () { setTimeout(function () { poll(el); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".delivery-progress[data-url]").forEach(poll);
  });
})();
