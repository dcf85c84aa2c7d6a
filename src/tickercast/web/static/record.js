// The track record: the ticker page's sentence and small chart (from
// /api/track-record/{ticker}), and the /track-record page's coverage by steps ahead,
// calibration plot (each level against how often it held, with 95% bars) and PIT histogram.
(function () {
  "use strict";
  const config = { responsive: true, displaylogo: false, displayModeBar: false };
  const small = { height: 240, margin: { l: 50, r: 10, t: 10, b: 40 }, legend: { orientation: "h" } };

  function tickerRecord(section) {
    tickercast.fetch(section.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (answer.ok && !answer.body.forecasts) return; // nothing kept yet: the section stays hidden
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

  function byMethod(rows) {
    const groups = {};
    rows.forEach(function (r) {
      const name = r.method + " (" + r.kind + ")";
      (groups[name] = groups[name] || []).push(r);
    });
    return groups;
  }

  function calibrationChart(el, rows) {
    const groups = byMethod(rows);
    const traces = Object.keys(groups).map(function (name) {
      const levels = groups[name];
      return {
        x: levels.map(function (r) { return r.level / 100; }),
        y: levels.map(function (r) { return r.coverage; }),
        error_y: {
          type: "data", symmetric: false,
          array: levels.map(function (r) { return r.high - r.coverage; }),
          arrayminus: levels.map(function (r) { return r.coverage - r.low; }),
        },
        text: levels.map(function (r) { return r.n.toLocaleString() + " prices"; }),
        name: name, mode: "markers", type: "scatter",
      };
    });
    traces.push({ x: [0, 1], y: [0, 1], name: "calibrated", mode: "lines", hoverinfo: "skip",
                  line: { dash: "dash", color: "#888" } });
    Plotly.newPlot(el, traces, Object.assign({}, small, {
      height: 320,
      xaxis: { title: "nominal level", range: [0, 1.02], tickformat: ".0%" },
      yaxis: { title: "band held", range: [0, 1.02], tickformat: ".0%" },
    }), config).then(function () { el.dataset.state = "drawn"; });
  }

  function pitChart(el, rows) {
    const bins = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th"];
    const traces = rows.map(function (r) {
      const total = r.pit.reduce(function (a, b) { return a + b; }, 0) || 1;
      return { x: bins, y: r.pit.map(function (c) { return c / total; }), type: "bar",
               name: r.method + " (" + r.kind + ")" };
    });
    traces.push({ x: [bins[0], bins[9]], y: [0.1, 0.1], name: "calibrated", mode: "lines",
                  line: { dash: "dash", color: "#888" } });
    Plotly.newPlot(el, traces, Object.assign({}, small, {
      xaxis: { title: "tenth of the forecast's distribution", tickangle: 0 },
      yaxis: { title: "share of prices", tickformat: ".0%", rangemode: "tozero" },
    }), config).then(function () { el.dataset.state = "drawn"; });
  }

  const section = document.getElementById("track-record");
  if (section && section.dataset.url) tickerRecord(section);
  const coverage = document.getElementById("coverage-chart");
  const data = document.getElementById("record-data");
  const parsed = data ? JSON.parse(data.textContent) : null;
  if (parsed && typeof Plotly !== "undefined") {
    if (coverage) coverageChart(coverage, parsed.coverage_by_step);
    const calibration = document.getElementById("calibration-chart");
    if (calibration) calibrationChart(calibration, parsed.calibration);
    const pit = document.getElementById("pit-chart");
    if (pit) pitChart(pit, parsed.pit);
  }
})();
