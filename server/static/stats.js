// RoadWatch review console: the statistics page's charts (Chart.js, vendored, no CDN).
// The figures come from the page itself (#stats-charts, the same numbers as its tables),
// so without this script, or without Chart.js, the tables are the page.
(function () {
  "use strict";
  var source = document.getElementById("stats-charts");
  if (!source || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var colours = ["#12355b", "#9aa5b1", "#1e7b34", "#a4262c", "#b26a00"];
  var kinds = { months: "line", violations: "bar", status: "bar", accidents: "line" };
  var lang = document.documentElement.lang || "vi";

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var chart = data[canvas.dataset.chart];
    if (!chart) return;
    var kind = kinds[canvas.dataset.chart] || "bar";
    var single = chart.series.length === 1;
    new window.Chart(canvas, {
      type: kind,
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (s, i) {
          var colour = single && kind === "bar" ? [colours[2], colours[3], colours[1]] : colours[i];
          return {
            label: s.label,
            data: s.data,
            borderColor: colour,
            backgroundColor: colour,
            borderDash: i === 1 && kind === "line" ? [6, 4] : [],
            tension: 0.2,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: canvas.dataset.chart === "violations" ? "y" : "x",
        locale: lang === "en" ? "en-GB" : "vi-VN",
        plugins: { legend: { display: !single, position: "bottom" } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
                  y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  });
})();
