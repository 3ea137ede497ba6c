/* Stagecheck: draw Chart.js charts from the data tables next to them.
 *
 * Every <table data-chart="bar|line" data-chart-canvas="ID"> is the accessible source of
 * one chart: the first column holds the labels, the columns whose <th> carries
 * data-series hold the numbers. Without JavaScript (or Chart.js) the table alone shows
 * the figures. No inline script or style: this file is loaded with <script src defer>.
 */
(function () {
  "use strict";

  // Colours with at least 3:1 contrast against white (WCAG 1.4.11 for graphics).
  var COLOURS = ["#1d4f91", "#a4262c", "#5c6b00", "#7a3e9d", "#8a5300", "#00667a", "#444444"];

  function number(text) {
    var cleaned = String(text).replace(/\s|%/g, "").replace(",", ".");
    var value = parseFloat(cleaned);
    return isNaN(value) ? 0 : value;
  }

  function readTable(table) {
    var headers = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var series = [];
    headers.forEach(function (th, index) {
      if (th.hasAttribute("data-series")) {
        series.push({
          index: index,
          label: th.textContent.trim(),
          axis: th.getAttribute("data-axis"),
          colour: th.getAttribute("data-colour"),
        });
      }
    });
    var labels = [];
    var values = series.map(function () { return []; });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      var cells = row.querySelectorAll("th, td");
      if (!cells.length || row.hasAttribute("data-chart-skip")) { return; }
      labels.push(cells[0].textContent.trim());
      series.forEach(function (s, i) {
        var cell = cells[s.index];
        values[i].push(number(cell ? (cell.getAttribute("data-value") || cell.textContent) : "0"));
      });
    });
    return { labels: labels, series: series, values: values };
  }

  function draw(table) {
    var canvas = document.getElementById(table.getAttribute("data-chart-canvas"));
    if (!canvas || typeof window.Chart === "undefined") { return null; }
    var data = readTable(table);
    var type = table.getAttribute("data-chart") || "bar";
    var share = data.series.some(function (s) { return s.axis === "share"; });
    var datasets = data.series.map(function (s, i) {
      var colour = s.colour || COLOURS[i % COLOURS.length];
      var set = {
        label: s.label,
        data: data.values[i],
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: type === "line" ? 2 : 0,
        yAxisID: s.axis === "share" ? "share" : "y",
      };
      if (s.axis === "share") { set.type = "line"; }
      return set;
    });
    var horizontal = table.getAttribute("data-chart-axis") === "y";
    var counts = { beginAtZero: true, ticks: { precision: 0, color: "#222222" } };
    var labels = { ticks: { color: "#222222" } };
    var scales = horizontal ? { x: counts, y: labels } : { x: labels, y: counts };
    if (share) {
      scales.share = { position: "right", beginAtZero: true, max: 100,
                       ticks: { color: "#222222", callback: function (v) { return v + "%"; } },
                       grid: { drawOnChartArea: false } };
    }
    var chart = new window.Chart(canvas, {
      type: type,
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { labels: { color: "#222222" } } },
        scales: scales,
      },
    });
    table.setAttribute("data-chart-drawn", "true");
    return chart;
  }

  function init() {
    window.stagecheckCharts = [];
    Array.prototype.forEach.call(document.querySelectorAll("table[data-chart]"), function (table) {
      var chart = draw(table);
      if (chart) { window.stagecheckCharts.push(chart); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
