// The compare page: every ticker on one chart, each scaled to 100 at the window's start, then
// each one's calibrated forecast (on the same scale) with its backtest's MASE beside its line,
// and a table of the same side by side.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const el = document.getElementById("compare-chart");
  const statusEl = document.getElementById("compare-status");
  const names = Object.keys(data.series);
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
  const nominal = Math.round(data.interval_width * 100);
  const config = { responsive: true, displaylogo: false };
  const answers = {}; // by ticker: {forecast, backtest} or {error}

  function scaled(name, value) {
    const first = data.first[name];
    return value === null || value === undefined || !first ? null : Math.round(value / first * 1e5) / 1e3;
  }

  function mase(name) {
    const b = answers[name] && answers[name].backtest;
    const overall = b && b.scores[b.method] ? b.scores[b.method].overall : null;
    return overall ? overall.relative_mae : null;
  }

  function maseText(name) {
    const m = mase(name);
    return m === null ? "MASE not measured" : "MASE " + m.toFixed(2);
  }

  function traces() {
    const out = [];
    names.forEach(function (name, i) {
      const color = COLORS[i % COLORS.length];
      out.push({
        type: "scatter", mode: "lines", name: name, x: data.ds, y: data.series[name],
        line: { color: color, width: 1.5 }, legendgroup: name,
      });
      const f = answers[name] && answers[name].forecast;
      if (f) {
        out.push({
          type: "scatter", mode: "lines", name: name + " forecast (" + maseText(name) + ")",
          x: f.forecast.map((r) => r.ds), y: f.forecast.map((r) => scaled(name, r.yhat)),
          line: { color: color, width: 2, dash: "dash" }, legendgroup: name,
        });
      }
    });
    return out;
  }

  // Beside each forecast's end, in the right margin: the ticker and its MASE, nudged apart so
  // no two labels sit on each other.
  function endLabels(narrow) {
    if (narrow) return []; // a phone's legend says the same under the chart
    const ends = names.filter((n) => answers[n] && answers[n].forecast).map(function (name) {
      const rows = answers[name].forecast.forecast;
      return { name: name, y: scaled(name, rows[rows.length - 1].yhat) };
    }).filter((e) => e.y !== null).sort((a, b) => a.y - b.y);
    const values = Object.values(data.series).flat().concat(ends.map((e) => e.y)).filter((v) => v !== null);
    const gap = (Math.max(...values) - Math.min(...values)) * 0.07;
    ends.forEach(function (e, i) {
      if (i > 0 && e.y - ends[i - 1].shown < gap) e.shown = ends[i - 1].shown + gap;
      else e.shown = e.y;
    });
    return ends.map(function (e) {
      return {
        xref: "paper", x: 1.01, xanchor: "left", yref: "y", y: e.shown, showarrow: false,
        text: e.name + " · " + maseText(e.name), font: { size: 11, color: COLORS[names.indexOf(e.name) % COLORS.length] },
        name: "mase-" + e.name,
      };
    });
  }

  function draw() {
    const narrow = el.clientWidth < 640;
    const layout = {
      margin: { t: 20, r: narrow ? 20 : 130, b: 40, l: 60 },
      xaxis: { type: "date", automargin: true },
      yaxis: { title: { text: "Price, 100 = first in window" }, automargin: true },
      legend: narrow ? { orientation: "h", y: -0.15, yanchor: "top" } : { orientation: "h", y: 1.08 },
      hovermode: "x unified",
      shapes: [{
        type: "line", xref: "paper", x0: 0, x1: 1, y0: 100, y1: 100,
        line: { color: "#999", width: 1, dash: "dot" },
      }],
      annotations: endLabels(narrow),
    };
    const all = traces();
    return Plotly.react(el, all, layout, config).then(function () {
      el.dataset.traces = String(all.length);
    });
  }

  function cells(texts) {
    const tr = document.createElement("tr");
    texts.forEach(function (text) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    return tr;
  }

  function showTable() {
    const body = document.querySelector("#compare-table tbody");
    body.replaceChildren(...names.map(function (name) {
      const a = answers[name] || {};
      if (!a.forecast) return cells([name, "", a.error || "loading…", "", "", ""]);
      const f = a.forecast;
      // Each ticker in its own currency (the forecast answer says which).
      const currency = new Intl.NumberFormat("en-US", { style: "currency", currency: f.currency });
      const end = f.forecast[f.forecast.length - 1];
      const last = f.history[f.history.length - 1];
      const b = a.backtest;
      const overall = b && b.scores[b.method] ? b.scores[b.method].overall : null;
      const steps = f.forecast.length + " " + f.step + (f.forecast.length === 1 ? "" : "s");
      return cells([
        name, currency.format(last.close), currency.format(end.yhat) + " in " + steps,
        nominal + "%: " + currency.format(end.yhat_lower) + "–" + currency.format(end.yhat_upper),
        overall ? overall.relative_mae.toFixed(2) : (a.backtestError || "…"),
        overall && overall.coverage !== null ? Math.round(overall.coverage * 100) + "%" : "",
      ]);
    }));
    document.getElementById("compare-forecasts").hidden = false;
    tickercast.scrollCues();
  }

  async function getJSON(url) {
    const response = await tickercast.fetch(url);
    let body = null;
    try { body = await response.json(); } catch (err) { body = null; }
    if (!response.ok) throw new Error((body && body.message) || "HTTP " + response.status);
    return body;
  }

  async function load(name) {
    answers[name] = {};
    try {
      answers[name].forecast = await getJSON(data.forecast_urls[name]);
    } catch (err) {
      answers[name].error = "no forecast: " + err.message;
      return;
    }
    try {
      answers[name].backtest = await getJSON(data.backtest_urls[name]);
    } catch (err) {
      answers[name].backtestError = "not measured";
    }
  }

  Plotly.newPlot(el, traces(), {}, config).then(draw).then(function () {
    el.dataset.state = "drawn";
    statusEl.className = "status busy";
    statusEl.textContent = "Asking the model for each ticker's forecast and backtest…";
    return Promise.all(names.map(load));
  }).then(function () {
    const failed = names.filter((n) => answers[n].error);
    statusEl.className = failed.length ? "status error" : "status ok";
    statusEl.textContent = failed.length
      ? "No forecast for " + failed.join(", ") + "; the others are drawn."
      : "Each ticker's calibrated forecast is drawn dashed, with its backtest's MASE beside it.";
    showTable();
    return draw();
  }).then(function () {
    el.dataset.forecasts = "drawn";
  });
})();
