// "Act on the largest disagreement" fills the new-action form with the topic and its
// metric (a static file: the pages' Content-Security-Policy runs no inline script).
(function () {
  "use strict";
  function wire() {
    document.querySelectorAll("[data-prefill-title]").forEach(function (link) {
      link.addEventListener("click", function () {
        document.getElementById("action-title").value = link.dataset.prefillTitle;
        document.getElementById("action-metric").value = link.dataset.prefillMetric;
        document.getElementById("action-source").value =
          "Largest disagreement on the relationship page";
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
