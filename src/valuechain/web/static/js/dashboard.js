// Draws every Vega-Lite chart of the survey dashboard from the JSON spec the page
// carries next to it (built server-side with Altair). The tables beside the charts
// hold the same numbers for readers who cannot see the charts.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById("spec-" + el.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      window
        // ast + the bundled interpreter: no eval; defaultStyle false: no <style>
        // element (the page's Content-Security-Policy refuses both; the few rules
        // it would add are in dashboard.css).
        .vegaEmbed(el, spec, { actions: false, renderer: "svg", ast: true, defaultStyle: false })
        .then(function () {
          el.dataset.rendered = "true";
        })
        .catch(function (error) {
          el.dataset.rendered = "error";
          el.textContent = "The chart could not be drawn; the table has the same numbers.";
          console.error(error);
        });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
