// A form sent back with problems: move the focus to their summary, so a screen reader
// reads it first (a static file: the Content-Security-Policy runs no inline script).
(function () {
  "use strict";
  function focusSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
})();
