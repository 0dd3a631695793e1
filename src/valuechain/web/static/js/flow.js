// The what-if slider shows its value as a signed percentage next to its label (a
// static file: the Content-Security-Policy runs no inline event handler).
(function () {
  "use strict";
  function wire() {
    document.querySelectorAll("input[data-shows-in]").forEach(function (input) {
      var out = document.getElementById(input.dataset.showsIn);
      if (!out) return;
      input.addEventListener("input", function () {
        out.value = (Number(input.value) > 0 ? "+" : "") + input.value + "%";
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
