// The ticker page: draw the history at once, then fetch the forecast and the backtest from the
// JSON API, showing progress while the model works and a clear sentence if it cannot.
"use strict";
(function () {
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const upload = page.mode === "upload";
  const chartEl = document.getElementById("price-chart");
  const statusEl = document.getElementById("forecast-status");
  const backtestEl = document.getElementById("backtest-status");
  const form = document.getElementById("controls");
  const config = { responsive: true, displaylogo: false };
  const band = Math.round(page.interval_width * 100) + "% band";
  const state = {
    chart: page.choices.chart,
    window: page.choices.window,
    horizon: Number(page.choices.h),
    forecast: null,
    drawn: false,
  };

  function sentence(text) {
    text = String(text || "").trim();
    if (!text) return "Something went wrong.";
    text = text[0].toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
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

  function historyTraces(h) {
    if (state.chart === "candles" && h.has_ohlc) {
      return [{
        type: "candlestick", name: "Price", x: h.ds,
        open: h.open, high: h.high, low: h.low, close: h.close,
      }];
    }
    return [{
      type: "scatter", mode: "lines", name: "Price", x: h.ds, y: h.close,
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
        name: band, hoverinfo: "skip",
      },
      {
        type: "scatter", mode: "lines", x: x, y: rows.map((r) => r.yhat),
        line: { color: "#d35400", width: 2 }, name: "Forecast",
      },
    ];
  }

  function draw() {
    const traces = historyTraces(history());
    if (state.forecast) traces.push(...forecastTraces(state.forecast));
    const layout = {
      margin: { t: 20, r: 20, b: 40, l: 60 },
      xaxis: { type: "date", rangeslider: { visible: false } },
      yaxis: { title: { text: "Price" } },
      legend: { orientation: "h", y: 1.08 },
      hovermode: "x",
    };
    const plot = state.drawn ? Plotly.react : Plotly.newPlot;
    return plot(chartEl, traces, layout, config).then(function () {
      state.drawn = true;
      chartEl.dataset.traces = String(traces.length);
      chartEl.dataset.chart = state.chart;
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
    return function (cls, message) {
      clearInterval(timer);
      el.className = "status " + cls;
      el.dataset.state = cls;
      el.textContent = message;
    };
  }

  function seriesBody() {
    const h = history();
    const ds = [];
    const y = [];
    h.ds.forEach(function (d, i) {
      if (h.close[i] !== null) { ds.push(d); y.push(h.close[i]); }
    });
    return { name: page.name, ds: ds, y: y, periods: state.horizon };
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
      throw new Error((data && data.message) || "The request failed (HTTP " + response.status + ").");
    }
    return data;
  }

  function fmt(value) {
    return value === null || value === undefined ? "" : Number(value).toFixed(2);
  }

  function showTable(data) {
    const body = document.querySelector("#forecast-table tbody");
    body.replaceChildren(...data.forecast.map(function (r) {
      const tr = document.createElement("tr");
      [r.ds, fmt(r.yhat), fmt(r.yhat_lower), fmt(r.yhat_upper)].forEach(function (text) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      return tr;
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

  function showComponents(rows) {
    const x = rows.map((r) => r.ds);
    const line = (key, n) => ({
      type: "scatter", mode: "lines", name: key, x: x, y: rows.map((r) => r[key]),
      xaxis: "x" + (n > 1 ? n : ""), yaxis: "y" + (n > 1 ? n : ""), line: { width: 1.5 },
    });
    const layout = {
      grid: { rows: 3, columns: 1, pattern: "independent" },
      height: 460, showlegend: false, margin: { t: 10, r: 20, b: 40, l: 60 },
      yaxis: { title: { text: "trend" } },
      yaxis2: { title: { text: "weekly" } },
      yaxis3: { title: { text: "yearly" } },
    };
    document.getElementById("components-section").hidden = false;
    const el = document.getElementById("components-chart");
    return Plotly.newPlot(el, [line("trend", 1), line("weekly", 2), line("yearly", 3)], layout, config)
      .then(function () { el.dataset.state = "drawn"; });
  }

  async function loadForecast() {
    state.forecast = null;
    const n = seriesBody().ds.length;
    const done = progress(statusEl,
      "Asking the model to forecast " + state.horizon + " trading days from " + n + " sessions…");
    try {
      const data = upload ? await getJSON("/api/forecast", seriesBody()) : await getJSON(page.forecast_url);
      state.forecast = data.forecast;
      await draw();
      const last = data.forecast[data.forecast.length - 1];
      done("ok", "Forecast for the next " + data.forecast.length + " trading days (to " +
        (last ? last.ds : "") + "), with its " + band + ".");
      showTable(data);
      await showComponents(data.forecast);
    } catch (err) {
      await draw();
      done("error", "No forecast right now: " + sentence(err.message) +
        " The price history above is still up to date.");
    }
  }

  async function loadBacktest() {
    const done = progress(backtestEl, "Backtesting: forecasting recent periods we already know…");
    const table = document.getElementById("backtest-table");
    try {
      const data = upload ? await getJSON("/api/backtest", seriesBody()) : await getJSON(page.backtest_url);
      const pct = (v) => (v === null ? "" : Number(v).toFixed(1) + "%");
      table.tBodies[0].replaceChildren(...data.folds.map(function (f) {
        const tr = document.createElement("tr");
        [f.test_start + " – " + f.test_end, pct(f.model_mape), pct(f.naive_mape),
          pct(f.coverage * 100)].forEach(function (text) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        return tr;
      }));
      table.hidden = data.folds.length === 0;
      done("ok", data.summary);
    } catch (err) {
      table.hidden = true;
      done("error", "No backtest right now: " + sentence(err.message));
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

  // An uploaded series lives only in this page: new choices are applied here, not reloaded.
  if (upload) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.reportValidity()) return;
      state.window = form.elements.window.value;
      state.horizon = Number(form.elements.h.value);
      run();
    });
  }

  async function run() {
    await loadForecast();
    await loadBacktest();
  }

  draw().then(run);
})();
