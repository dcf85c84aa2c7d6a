// The ticker page: draw the history at once, then fetch the forecast and, after it, the
// backtest ("How good is this forecast?") from the JSON API, showing progress while the model
// works and a clear sentence if it cannot. The backtest never holds up the chart.
"use strict";
(function () {
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const upload = page.mode === "upload";
  const chartEl = document.getElementById("price-chart");
  const statusEl = document.getElementById("forecast-status");
  const backtestEl = document.getElementById("backtest-status");
  const form = document.getElementById("controls");
  const config = { responsive: true, displaylogo: false };
  const nominal = Math.round(page.interval_width * 100);
  const METHOD_NAMES = { calibrated: "Calibrated forecast", prophet: "Plain Prophet forecast" };
  const state = {
    chart: page.choices.chart,
    window: page.choices.window,
    horizon: Number(page.choices.h),
    method: page.choices.method,
    forecast: null,
    bandLabel: nominal + "% band",
    drawn: false,
  };

  function sentence(text) {
    text = String(text || "").trim();
    if (!text) return "Something went wrong.";
    text = text[0].toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function money(value) {
    if (value === null || value === undefined) return "";
    const text = Number(value).toFixed(2);
    return page.unit === "USD" ? "$" + text : text;
  }

  // The history the chart shows: all the server sent, or (upload) the chosen window of it.
  function history() {
    const h = page.history;
    const rows = upload ? page.windows[state.window] : null;
    if (!rows || rows >= h.ds.length) return h;
    const from = h.ds.length - rows;
    const cut = (values) => values.slice(from);
    return {
      ds: cut(h.ds), open: cut(h.open), high: cut(h.high), low: cut(h.low),
      close: cut(h.close), has_ohlc: h.has_ohlc,
    };
  }

  // What the horizon counts: NYSE sessions for tickers (and weekday-only uploads), else steps.
  function stepWords(step) {
    if (step) return step === "session" ? "trading days" : "steps";
    return upload ? "steps" : "trading days";
  }

  // Would a longer window send the model more history?
  function moreHistory() {
    return upload ? history().ds.length < page.history.ds.length : Boolean(page.more_history);
  }

  function lastPrice(h) {
    for (let i = h.close.length - 1; i >= 0; i--) {
      if (h.close[i] !== null) return { ds: h.ds[i], close: h.close[i] };
    }
    return null;
  }

  function historyTraces(h) {
    if (state.chart === "candles" && h.has_ohlc) {
      return [{
        type: "candlestick", name: "Price", x: h.ds,
        open: h.open, high: h.high, low: h.low, close: h.close,
      }];
    }
    return [{
      type: "scatter", mode: "lines", name: upload ? "Value" : "Price", x: h.ds, y: h.close,
      line: { color: "#1f4e79", width: 1.5 },
    }];
  }

  function forecastTraces(rows) {
    const x = rows.map((r) => r.ds);
    return [
      {
        type: "scatter", mode: "lines", x: x, y: rows.map((r) => r.yhat_upper),
        line: { width: 0 }, showlegend: false, hoverinfo: "skip", name: "upper",
      },
      {
        type: "scatter", mode: "lines", x: x, y: rows.map((r) => r.yhat_lower),
        line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(230, 126, 34, 0.25)",
        name: state.bandLabel, hoverinfo: "skip",
      },
      {
        type: "scatter", mode: "lines", x: x, y: rows.map((r) => r.yhat),
        line: { color: "#d35400", width: 2 }, name: METHOD_NAMES[state.method] || "Forecast",
      },
    ];
  }

  // Today's (the last) price, and with a forecast, the line where it starts.
  function marks(h) {
    const last = lastPrice(h);
    if (!last) return { shapes: [], annotations: [] };
    const annotations = [{
      x: last.ds, y: last.close, xref: "x", yref: "y",
      text: (upload ? "last value " : "last price ") + money(last.close),
      showarrow: true, arrowhead: 2, ax: -50, ay: -35, name: "last-price",
      bgcolor: "rgba(255,255,255,0.85)",
    }];
    const shapes = [];
    if (state.forecast) {
      // A label on the line itself: an annotation's text would widen the date axis.
      shapes.push({
        type: "line", x0: last.ds, x1: last.ds, xref: "x", yref: "paper", y0: 0, y1: 1,
        line: { color: "#5d6b7a", width: 1, dash: "dot" }, name: "forecast-start",
        label: {
          text: "forecast starts " + last.ds, textposition: "end", textangle: 0,
          xanchor: "right", font: { size: 11, color: "#5d6b7a" },
        },
      });
    }
    return { shapes: shapes, annotations: annotations };
  }

  function draw() {
    const h = history();
    const traces = historyTraces(h);
    if (state.forecast) traces.push(...forecastTraces(state.forecast));
    const m = marks(h);
    const narrow = chartEl.clientWidth < 640; // phones: the legend under the chart
    const layout = {
      margin: { t: 30, r: 20, b: narrow ? 110 : 40, l: 70 },
      xaxis: { type: "date", rangeslider: { visible: false }, title: { text: "Date" } },
      yaxis: { title: { text: page.unit === "USD" ? "Price (USD)" : "Value (" + page.unit + ")" } },
      legend: narrow ? { orientation: "h", y: -0.2, yanchor: "top" } : { orientation: "h", y: 1.14 },
      hovermode: "x",
      shapes: m.shapes,
      annotations: m.annotations,
    };
    const plot = state.drawn ? Plotly.react : Plotly.newPlot;
    return plot(chartEl, traces, layout, config).then(function () {
      state.drawn = true;
      chartEl.dataset.traces = String(traces.length);
      chartEl.dataset.chart = state.chart;
      chartEl.dataset.band = state.bandLabel;
      chartEl.dataset.state = state.forecast ? "forecast" : "history";
    });
  }

  // A status line that says what is happening and for how long.
  function progress(el, text) {
    const started = Date.now();
    el.className = "status busy";
    el.dataset.state = "busy";
    el.textContent = text;
    const timer = setInterval(function () {
      el.textContent = text + " " + Math.round((Date.now() - started) / 1000) + " s";
    }, 1000);
    const done = function (cls, message) {
      clearInterval(timer);
      el.className = "status " + cls;
      el.dataset.state = cls;
      el.textContent = message;
    };
    done.cancel = function () { clearInterval(timer); }; // a newer run owns the line now
    return done;
  }

  function seriesBody() {
    const h = history();
    const ds = [];
    const y = [];
    h.ds.forEach(function (d, i) {
      if (h.close[i] !== null) { ds.push(d); y.push(h.close[i]); }
    });
    return { name: page.name, ds: ds, y: y, periods: state.horizon, method: state.method };
  }

  async function getJSON(url, body) {
    let response;
    try {
      response = await fetch(url, body ? {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      } : {});
    } catch (err) {
      throw new Error("The web app could not be reached; check your connection.");
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (!response.ok) {
      const error = new Error((data && data.message) || "The request failed (HTTP " + response.status + ").");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function fmt(value) {
    return value === null || value === undefined ? "" : Number(value).toFixed(2);
  }

  function cells(tr, texts) {
    texts.forEach(function (text) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    return tr;
  }

  function list(el, sentences) {
    el.replaceChildren(...sentences.map(function (text) {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
    el.hidden = sentences.length === 0;
  }

  function showTable(data) {
    const body = document.querySelector("#forecast-table tbody");
    body.replaceChildren(...data.forecast.map(function (r) {
      return cells(document.createElement("tr"), [r.ds, fmt(r.yhat), fmt(r.yhat_lower), fmt(r.yhat_upper)]);
    }));
    document.getElementById("table-section").hidden = false;
    if (upload) {
      const columns = ["ds", "yhat", "yhat_lower", "yhat_upper", "trend", "weekly", "yearly"];
      const lines = [columns.join(",")].concat(data.forecast.map(function (r) {
        return columns.map((c) => (r[c] === null ? "" : r[c])).join(",");
      }));
      const csv = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
      const json = new Blob([JSON.stringify(data)], { type: "application/json" });
      document.getElementById("download-csv").href = URL.createObjectURL(csv);
      document.getElementById("download-json").href = URL.createObjectURL(json);
    }
  }

  // Only the components that mean something for this series, each axis with its unit.
  function showComponents(data) {
    const rows = data.forecast;
    const shown = data.components.shown;
    const unit = data.components.unit;
    const titles = { trend: "Trend", weekly: "Weekly effect", yearly: "Yearly effect" };
    const x = rows.map((r) => r.ds);
    const layout = {
      grid: { rows: shown.length, columns: 1, pattern: "independent" },
      height: 60 + 170 * shown.length, showlegend: false, margin: { t: 10, r: 20, b: 40, l: 80 },
    };
    const traces = shown.map(function (key, i) {
      const n = i === 0 ? "" : String(i + 1);
      layout["yaxis" + n] = { title: { text: titles[key] + " (" + unit + ")" } };
      layout["xaxis" + n] = { title: { text: "Date" }, type: "date" };
      return {
        type: "scatter", mode: "lines", name: key, x: x, y: rows.map((r) => r[key]),
        xaxis: "x" + n, yaxis: "y" + n, line: { width: 1.5 },
      };
    });
    list(document.getElementById("components-notes"), Object.values(data.components.hidden));
    document.getElementById("components-section").hidden = false;
    const el = document.getElementById("components-chart");
    el.dataset.components = shown.join(",");
    return Plotly.newPlot(el, traces, layout, config)
      .then(function () { el.dataset.state = "drawn"; });
  }

  function noForecastHint(status) {
    if (status !== 400) return " The price history above is still up to date.";
    const hints = [];
    if (moreHistory()) hints.push("a longer history window may allow one");
    if (state.method === "calibrated") {
      hints.push("plain Prophet (the switch above) draws one, though how good it is cannot be measured here");
    }
    return hints.length ? " " + sentence(hints.join("; ")) : "";
  }

  async function loadForecast(current) {
    state.forecast = null;
    state.bandLabel = nominal + "% band";
    const n = seriesBody().ds.length;
    const done = progress(statusEl,
      "Asking the model to forecast " + state.horizon + " " + stepWords() + " from " + n +
      (upload ? " values…" : " sessions…"));
    try {
      const data = upload ? await getJSON("/api/forecast", seriesBody()) : await getJSON(page.forecast_url);
      if (!current()) { done.cancel(); return { ok: false, stale: true }; }
      state.forecast = data.forecast;
      state.bandLabel = data.band_label;
      await draw();
      const last = data.forecast[data.forecast.length - 1];
      done("ok", (METHOD_NAMES[data.method] || "Forecast") + " for the next " +
        data.forecast.length + " " + stepWords(data.step) + " (to " + (last ? last.ds : "") + "), with its " +
        nominal + "% band.");
      list(document.getElementById("forecast-notes"), data.notes);
      showTable(data);
      await showComponents(data);
      return { ok: true };
    } catch (err) {
      if (!current()) { done.cancel(); return { ok: false, stale: true }; }
      await draw();
      const lead = err.status === 400 ? "No forecast for this series: " : "No forecast right now: ";
      done("error", lead + sentence(err.message) + noForecastHint(err.status));
      list(document.getElementById("forecast-notes"), []);
      return { ok: false, status: err.status, message: err.message };
    }
  }

  function pct(value) {
    return value === null || value === undefined ? "" : Math.round(value * 100) + "%";
  }

  function ratio(value) {
    return value === null || value === undefined ? "" : Number(value).toFixed(2);
  }

  function showScores(data) {
    const labels = [
      [data.method, METHOD_NAMES[data.method] || data.method],
      ["random_walk_drift", "random walk with drift"],
      ["random_walk", "random walk (last price)"],
    ];
    const table = document.getElementById("backtest-table");
    table.tBodies[0].replaceChildren(...labels.filter((l) => data.scores[l[0]]).map(function (l) {
      const s = data.scores[l[0]].overall;
      return cells(document.createElement("tr"), [
        l[1], ratio(s.relative_mae), money(s.mae), pct(s.coverage), money(s.band_width),
        pct(s.direction_hit_rate),
      ]);
    }));
    table.hidden = false;
  }

  // Skill against the random walk and band coverage, by sessions ahead.
  function showSkill(data) {
    const ours = data.scores[data.method].by_step;
    const drift = data.scores.random_walk_drift ? data.scores.random_walk_drift.by_step : [];
    const steps = ours.map((s, i) => i + 1);
    const mode = steps.length > 20 ? "lines" : steps.length > 1 ? "lines+markers" : "markers";
    const name = METHOD_NAMES[data.method] || data.method;
    const traces = [
      {
        type: "scatter", mode: mode, name: name + " (MASE)", x: steps,
        y: ours.map((s) => s.relative_mae), line: { color: "#d35400" },
      },
      {
        type: "scatter", mode: mode, name: "random walk with drift (MASE)", x: steps,
        y: drift.map((s) => s.relative_mae), line: { color: "#7f8c8d", dash: "dash" },
      },
      {
        type: "scatter", mode: "lines", name: "random walk = 1", x: [1, Math.max(steps.length, 2)],
        y: [1, 1], line: { color: "#1d2733", dash: "dot", width: 1 },
      },
      {
        type: "scatter", mode: mode, name: name + " band coverage", x: steps,
        y: ours.map((s) => (s.coverage === null ? null : s.coverage * 100)),
        xaxis: "x2", yaxis: "y2", line: { color: "#d35400" },
      },
      {
        type: "scatter", mode: "lines", name: "nominal " + nominal + "%", x: [1, Math.max(steps.length, 2)],
        y: [nominal, nominal], xaxis: "x2", yaxis: "y2", line: { color: "#1d2733", dash: "dot", width: 1 },
      },
    ];
    const el = document.getElementById("skill-chart");
    el.hidden = false;
    const narrow = el.clientWidth < 640; // phones: one chart above the other
    const ahead = data.step === "session" ? "Sessions ahead" : "Steps ahead";
    const layout = {
      grid: { rows: narrow ? 2 : 1, columns: narrow ? 1 : 2, pattern: "independent" },
      height: narrow ? 560 : 320, margin: { t: 10, r: 20, b: 50, l: 70 },
      legend: { orientation: "h", y: narrow ? -0.15 : -0.3 },
      xaxis: { title: { text: ahead } },
      yaxis: { title: { text: "MASE (× random walk's error)" }, rangemode: "tozero" },
      xaxis2: { title: { text: ahead } },
      yaxis2: { title: { text: "% of prices inside the band" }, range: [0, 100] },
    };
    return Plotly.newPlot(el, traces, layout, config).then(function () {
      el.dataset.state = "drawn";
      el.dataset.steps = String(steps.length);
    });
  }

  async function loadBacktest(forecast, current) {
    const shortened = document.getElementById("backtest-shortened");
    const verdict = document.getElementById("verdict");
    const table = document.getElementById("backtest-table");
    const skill = document.getElementById("skill-chart");
    [shortened, verdict, table, skill].forEach((el) => { el.hidden = true; });
    if (!forecast.ok && forecast.status === 400) {
      backtestEl.className = "status error";
      backtestEl.dataset.state = "error";
      backtestEl.textContent = "No backtest either: " + sentence(forecast.message);
      return;
    }
    const done = progress(backtestEl,
      "Backtesting: refitting the model at past dates and scoring what it would have said…");
    try {
      const data = upload ? await getJSON("/api/backtest", seriesBody()) : await getJSON(page.backtest_url);
      if (!current()) { done.cancel(); return; }
      if (data.shortened) {
        shortened.textContent = data.shortened;
        shortened.hidden = false;
      }
      verdict.textContent = data.verdict;
      verdict.hidden = false;
      showScores(data);
      await showSkill(data);
      done("ok", "Backtested " + data.horizon + " " + data.step + "s ahead at " + data.cutoffs +
        " past dates: " + data.scored + " forecasts scored, " + data.cutoffs + " at each step.");
      if (state.forecast) {
        state.bandLabel = data.band_label;
        await draw();
      }
    } catch (err) {
      if (!current()) { done.cancel(); return; }
      const refused = err.status === 400;
      const longer = refused && moreHistory();
      done("error", (refused ? "No backtest for this series: " : "No backtest right now: ") +
        sentence(err.message) + (longer ? " A longer history window allows one." : ""));
    }
  }

  const candles = form.querySelector('input[value="candles"]');
  if (candles && !page.history.has_ohlc) {
    candles.disabled = true;
    candles.parentElement.title = "This series has no open, high and low prices.";
  }

  // The chart kind needs no new data: redraw, and keep the URL in step for bookmarks.
  form.querySelectorAll('input[name="chart"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      state.chart = radio.value;
      draw();
      if (!upload) {
        const url = new URL(window.location.href);
        url.searchParams.set("chart", state.chart);
        window.history.replaceState(null, "", url);
      }
    });
  });

  // Another method is another forecast: a ticker page loads its URL, an upload re-asks.
  form.querySelectorAll('input[name="method"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (upload) {
        state.method = radio.value;
        run();
      } else if (form.reportValidity()) {
        form.requestSubmit();
      }
    });
  });

  // An uploaded series lives only in this page: new choices are applied here, not reloaded.
  if (upload) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.reportValidity()) return;
      state.window = form.elements.window.value;
      state.horizon = Number(form.elements.h.value);
      state.method = form.elements.method.value;
      run();
    });
  }

  let runs = 0;
  async function run() {
    const mine = ++runs;
    const current = () => mine === runs;
    const forecast = await loadForecast(current);
    if (current()) await loadBacktest(forecast, current);
  }

  draw().then(run);
})();
