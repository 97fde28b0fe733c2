// Section forms (the issue page's inline and a section's own page): the event fields (date, time, venue,
// fee, booking) show for events only. This marks each form with its kind (data-section-kind), at once and
// whenever the kind changes; editor.css hides the event rows when that is not "event". The fields stay in
// the form and are still posted. Without this script nothing is marked, so every field shows.
(function () {
  "use strict";

  var KIND = "select[name=kind], select[name$='-kind']";

  function mark(select) {
    var box = select.closest(".inline-related") || select.form;
    if (box) { box.dataset.sectionKind = select.value; }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(KIND)) { mark(event.target); }
  });

  // Django (5.x) dispatches "formset:added" on the new row, bubbling.
  document.addEventListener("formset:added", function (event) {
    if (event.target.querySelectorAll) { event.target.querySelectorAll(KIND).forEach(mark); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(KIND).forEach(mark);
  });
})();
