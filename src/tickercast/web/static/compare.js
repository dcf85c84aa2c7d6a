// The compare page: every ticker on one chart, each scaled to 100 at the window's start.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const el = document.getElementById("compare-chart");
  const traces = Object.keys(data.series).map(function (name) {
    return { type: "scatter", mode: "lines", name: name, x: data.ds, y: data.series[name] };
  });
  const layout = {
    margin: { t: 20, r: 20, b: 40, l: 60 },
    yaxis: { title: { text: "Price, 100 = first in window" } },
    legend: { orientation: "h", y: 1.08 },
    hovermode: "x unified",
    shapes: [{
      type: "line", xref: "paper", x0: 0, x1: 1, y0: 100, y1: 100,
      line: { color: "#999", width: 1, dash: "dot" },
    }],
  };
  Plotly.newPlot(el, traces, layout, { responsive: true, displaylogo: false }).then(function () {
    el.dataset.state = "drawn";
    el.dataset.traces = String(traces.length);
  });
})();
