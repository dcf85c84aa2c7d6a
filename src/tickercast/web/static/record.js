// The track record: the ticker page's sentence and small chart (from
// /api/track-record/{ticker}), and the /track-record page's coverage by steps ahead.
(function () {
  "use strict";
  const config = { responsive: true, displaylogo: false, displayModeBar: false };
  const small = { height: 240, margin: { l: 50, r: 10, t: 10, b: 40 }, legend: { orientation: "h" } };

  function tickerRecord(section) {
    fetch(section.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) return null; // nothing kept yet: the section stays hidden
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (!answer) return;
        const sentence = document.getElementById("record-sentence");
        section.hidden = false;
        if (!answer.ok) {
          sentence.textContent = "The track record is unavailable right now.";
          sentence.className = "status error";
          return;
        }
        const record = answer.body;
        sentence.textContent = record.sentence;
        const months = record.by_month.filter(function (m) { return m.scored > 0; });
        const chart = document.getElementById("record-chart");
        if (!months.length || typeof Plotly === "undefined") { chart.hidden = true; return; }
        const x = months.map(function (m) { return m.month; });
        Plotly.newPlot(chart, [
          { x: x, y: months.map(function (m) { return m.mae; }), name: "our forecasts", mode: "lines+markers" },
          { x: x, y: months.map(function (m) { return m.walk_mae; }), name: "the random walk", mode: "lines+markers",
            line: { dash: "dot" } },
        ], Object.assign({ yaxis: { title: "mean absolute error" } }, small), config)
          .then(function () { chart.dataset.state = "drawn"; });
      })
      .catch(function () { /* the page works without its record */ });
  }

  function coverageChart(el, steps) {
    const groups = {};
    steps.forEach(function (s) {
      const name = s.method + " (" + s.kind + ")";
      (groups[name] = groups[name] || []).push(s);
    });
    const traces = Object.keys(groups).map(function (name) {
      const rows = groups[name];
      return { x: rows.map(function (s) { return s.step; }),
               y: rows.map(function (s) { return s.coverage; }), name: name, mode: "lines" };
    });
    const nominal = steps.length ? steps[0].interval_width : 0.8;
    const last = Math.max.apply(null, steps.map(function (s) { return s.step; }));
    traces.push({ x: [1, last], y: [nominal, nominal], name: "nominal", mode: "lines",
                  line: { dash: "dash", color: "#888" } });
    Plotly.newPlot(el, traces, Object.assign({
      xaxis: { title: "sessions ahead" }, yaxis: { title: "band held", range: [0, 1], tickformat: ".0%" },
    }, small), config).then(function () { el.dataset.state = "drawn"; });
  }

  const section = document.getElementById("track-record");
  if (section && section.dataset.url) tickerRecord(section);
  const coverage = document.getElementById("coverage-chart");
  const data = document.getElementById("record-data");
  if (coverage && data && typeof Plotly !== "undefined") {
    coverageChart(coverage, JSON.parse(data.textContent).coverage_by_step);
  }
})();
