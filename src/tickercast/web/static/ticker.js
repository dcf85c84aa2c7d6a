// The ticker page: draw the history at once, then fetch the forecast and, after it, the
// backtest ("How good is this forecast?") from the JSON API, showing progress while the model
// works and a clear sentence if it cannot. The backtest never holds up the chart.
// The sentence at the top answers the visitor's question in words; the range buttons only
// change how much history the chart shows (the forecast is the same at every range).
"use strict";
(function () {
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const upload = page.mode === "upload";
  const chartEl = document.getElementById("price-chart");
  const statusEl = document.getElementById("forecast-status");
  const backtestEl = document.getElementById("backtest-status");
  const answerEl = document.getElementById("answer");
  const form = document.getElementById("controls");
  const logSwitch = document.getElementById("log-scale");
  const config = { responsive: true, displaylogo: false };
  const nominal = Math.round(page.interval_width * 100);
  const METHOD_NAMES = { calibrated: "Calibrated forecast", prophet: "Plain Prophet forecast" };
  // MASE within this of 1 reads "about equal to assuming no change"; above 1 + it, the chart
  // says the method does clearly worse than the random walk.
  const ABOUT_EQUAL = 0.05;
  // A component's axis spans at least this share of the last price: a few cents stay flat.
  const COMPONENT_FLOOR = 0.1;
  const query = new URLSearchParams(window.location.search);
  const state = {
    chart: page.choices.chart,
    window: page.choices.window,
    horizon: Number(page.choices.h),
    method: page.choices.method,
    step: page.step,
    log: query.get("scale") === "log",
    forecast: null,
    backtest: null,
    quantiles: null, // at the last date, for the odds box
    oddsDate: null,
    bandLabel: nominal + "% band",
    bandLabels: {}, // the other bands' legends, once the backtest says what each held
    drawn: false,
  };

  function sentence(text) {
    text = String(text || "").trim();
    if (!text) return "Something went wrong.";
    text = text[0].toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  // Amounts in the ticker's currency (an ISO code), or plain numbers for an uploaded file.
  const currency = /^[A-Z]{3}$/.test(page.unit)
    ? new Intl.NumberFormat("en-US", { style: "currency", currency: page.unit })
    : null;
  function money(value) {
    if (value === null || value === undefined) return "";
    return currency ? currency.format(value) : Number(value).toFixed(2);
  }

  // One word for a step, everywhere a person reads: "trading day", "weekday" or "day".
  function steps(n, step) {
    const word = step || page.step;
    return n === 1 ? word : word + "s";
  }

  function lastPrice(h) {
    for (let i = h.close.length - 1; i >= 0; i--) {
      if (h.close[i] !== null) return { ds: h.ds[i], close: h.close[i], index: i };
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

  // The fan chart: the 95%, 80% and 50% bands as nested shades (each drawn over the wider
  // one, so the innermost is the darkest), then the forecast's centre. The 80% band's name is
  // state.bandLabel: the API's, which the backtest completes with what the band held.
  const FAN = [
    { level: 95, fill: "rgba(230, 126, 34, 0.16)", rank: 1003 },
    { level: 80, fill: "rgba(230, 126, 34, 0.26)", rank: 1002 },
    { level: 50, fill: "rgba(211, 84, 0, 0.34)", rank: 1001 },
  ];
  function bandEdges(rows, level) {
    const lower = level === nominal ? "yhat_lower" : "yhat_lower_" + level;
    const upper = level === nominal ? "yhat_upper" : "yhat_upper_" + level;
    if (!rows.every((r) => r[lower] !== undefined && r[upper] !== undefined)) return null;
    return { lower: rows.map((r) => r[lower]), upper: rows.map((r) => r[upper]) };
  }

  // The legend's names. The 80% band's is state.bandLabel, the hook for the backtest: the
  // API's "80% band", which loadBacktest replaces with what the band held in backtests.
  function bandName(level) {
    if (level === nominal) return state.bandLabel;
    return state.bandLabels[String(level)] || level + "% band";
  }

  function forecastTraces(rows) {
    const x = rows.map((r) => r.ds);
    const traces = [];
    FAN.forEach(function (band) {
      const edges = bandEdges(rows, band.level);
      if (!edges) return; // an answer without this level: the bands it has
      traces.push({
        type: "scatter", mode: "lines", x: x, y: edges.upper, line: { width: 0 },
        showlegend: false, hoverinfo: "skip", name: "upper " + band.level,
      }, {
        type: "scatter", mode: "lines", x: x, y: edges.lower, line: { width: 0 },
        fill: "tonexty", fillcolor: band.fill, name: bandName(band.level), hoverinfo: "skip",
        legendrank: band.rank, meta: "band-" + band.level,
      });
    });
    traces.push({
      type: "scatter", mode: "lines", x: x, y: rows.map((r) => r.yhat),
      line: { color: "#d35400", width: 2 }, name: METHOD_NAMES[state.method] || "Forecast",
    });
    return traces;
  }

  function overallScore(data) {
    return data && data.scores[data.method] ? data.scores[data.method].overall : null;
  }

  // Where the backtest says this method does clearly worse than the random walk, the chart's
  // legend says so too: an entry with no data, only a name.
  function warningTraces() {
    const score = overallScore(state.backtest);
    if (!state.forecast || !score || !(score.relative_mae > 1 + ABOUT_EQUAL)) return [];
    return [{
      type: "scatter", mode: "markers", x: [null], y: [null], hoverinfo: "skip",
      name: "⚠ In backtests its errors were " + Number(score.relative_mae).toFixed(2) +
        "× the random walk's:<br>worse than assuming no change",
      marker: { symbol: "triangle-up", size: 11, color: "#a61b1b" },
    }];
  }

  const DAY = 86400000;
  function isoDay(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  // The visible range: the window's last rows of history, then the whole forecast.
  function visibleRange(h) {
    const rows = page.windows[state.window];
    const from = rows && rows < h.ds.length ? h.ds.length - rows : 0;
    const last = state.forecast && state.forecast.length
      ? state.forecast[state.forecast.length - 1].ds : h.ds[h.ds.length - 1];
    const start = Date.parse(h.ds[from]);
    const end = Date.parse(last);
    const pad = Math.max(DAY, (end - start) * 0.01);
    return { from: from, x: [isoDay(start - pad), isoDay(end + pad)] };
  }

  // The y range of what is visible, with room above for the labels on the chart.
  function valueRange(h, from) {
    const values = [];
    const keep = (v) => { if (v !== null && v !== undefined && (!state.log || v > 0)) values.push(v); };
    const candles = state.chart === "candles" && h.has_ohlc;
    for (let i = from; i < h.ds.length; i++) {
      keep(h.close[i]);
      if (candles) { keep(h.high[i]); keep(h.low[i]); }
    }
    (state.forecast || []).forEach(function (r) {
      keep(r.yhat_lower); keep(r.yhat_upper); keep(r.yhat); keep(r.yhat_lower_95); keep(r.yhat_upper_95);
    });
    if (!values.length) return null;
    const scale = state.log ? Math.log10 : (v) => v;
    let lo = scale(Math.min(...values));
    let hi = scale(Math.max(...values));
    const span = hi - lo || Math.abs(hi) * 0.1 || 1;
    return [lo - span * 0.06, hi + span * 0.16];
  }

  // The "forecast starts" label's width in pixels, and on which side of its line it fits: to the
  // right, over the forecast, unless the forecast is too narrow on screen for it.
  function startLabel(text, range) {
    const width = text.length * 6 + 8; // 11 px type
    const rows = state.forecast;
    const plot = chartEl.clientWidth - 95; // the chart's width less its margins
    const span = Date.parse(range.x[1]) - Date.parse(range.x[0]);
    const room = (Date.parse(range.x[1]) - Date.parse(rows[0].ds)) / span * plot;
    return { width: width, side: room > width + 10 ? "left" : "right" };
  }

  // Today's (the last) price, and with a forecast, the line where it starts.
  function marks(h, range) {
    const last = lastPrice(h);
    if (!last) return { shapes: [], annotations: [] };
    const annotations = [{
      x: last.ds, y: state.log ? Math.log10(last.close) : last.close, xref: "x", yref: "y",
      text: (upload ? "last value " : "last price ") + money(last.close),
      showarrow: true, arrowhead: 2, ax: -70, ay: -40, name: "last-price",
      bgcolor: "rgba(255,255,255,0.85)",
    }];
    const shapes = [];
    if (state.forecast) {
      // A label on the line itself: an annotation's text would widen the date axis.
      const text = "forecast starts " + last.ds;
      state.startLabel = startLabel(text, range);
      shapes.push({
        type: "line", x0: last.ds, x1: last.ds, xref: "x", yref: "paper", y0: 0, y1: 1,
        line: { color: "#5d6b7a", width: 1, dash: "dot" }, name: "forecast-start",
        label: {
          text: text, textposition: "end", textangle: 0,
          xanchor: state.startLabel.side, yanchor: "top", font: { size: 11, color: "#5d6b7a" },
        },
      });
    }
    return { shapes: shapes, annotations: annotations };
  }

  // The chart's pixels (in its own coordinates) of a date and a value.
  function pixels() {
    const xa = chartEl._fullLayout.xaxis;
    const ya = chartEl._fullLayout.yaxis;
    return {
      x: (ds) => xa._offset + xa.l2p(xa.d2l(ds)),
      y: (v) => ya._offset + ya.l2p(state.log ? Math.log10(v) : v),
      area: { left: xa._offset, right: xa._offset + xa._length, top: ya._offset, bottom: ya._offset + ya._length },
    };
  }

  // The history's visible points as pixels, oldest first.
  function linePoints(h, from, px) {
    const points = [];
    for (let i = from; i < h.ds.length; i++) {
      const v = h.close[i];
      if (v !== null && (!state.log || v > 0)) points.push({ x: px.x(h.ds[i]), y: px.y(v) });
    }
    return points;
  }

  function inBox(box, x, y) {
    return x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
  }

  // How much of the line, from `points[first]` on, the box covers: each segment is checked
  // along its length, not only at its ends.
  function lineHits(points, first, box) {
    let hits = 0;
    for (let i = Math.max(first, 0); i < points.length; i++) {
      const a = points[i];
      const b = points[i + 1] || a;
      for (let k = 0; k <= 8; k++) {
        if (inBox(box, a.x + (b.x - a.x) * k / 8, a.y + (b.y - a.y) * k / 8)) hits++;
      }
    }
    return hits;
  }

  // The fan's outermost band (95%, else the 80% one) that the box covers, in rows.
  function bandHits(box, px) {
    return (state.forecast || []).filter(function (r) {
      const x = px.x(r.ds);
      const lower = r.yhat_lower_95 === undefined ? r.yhat_lower : r.yhat_lower_95;
      const upper = r.yhat_upper_95 === undefined ? r.yhat_upper : r.yhat_upper_95;
      if (x < box.left || x > box.right || lower === null || upper === null) return false;
      return px.y(upper) <= box.bottom && px.y(lower) >= box.top;
    }).length;
  }

  // Moves the last-price label to the place near its point that covers the least of the data
  // (never, if it can help it, the line's last 10 points) and stays inside the plot, clear of
  // the "forecast starts" label at the top of the dotted line.
  function placeLastPriceLabel(h, from) {
    const label = chartEl.querySelector(".annotation[data-index='0'] .bg");
    if (!label) return Promise.resolve();
    const size = label.getBBox();
    const px = pixels();
    const points = linePoints(h, from, px);
    if (!points.length) return Promise.resolve();
    const anchor = points[points.length - 1];
    const area = px.area;
    const startWidth = state.startLabel ? state.startLabel.width : 0;
    const startLeft = state.startLabel && state.startLabel.side === "right" ? anchor.x - startWidth : anchor.x;
    const start = { left: startLeft, right: startLeft + startWidth, top: area.top, bottom: area.top + 18 };
    const w = size.width / 2 + 3;
    const hh = size.height / 2 + 3;
    const candidates = [[0, area.top + hh + 2 - anchor.y], [-(w + 20), area.top + hh + 2 - anchor.y]];
    [40, 75, 110, 150].forEach(function (dy) {
      [-(w + 20), -(w + 60), -(w + 120), -w / 2, 0].forEach(function (dx) {
        candidates.push([dx, -dy], [dx, dy]);
      });
    });
    let best = null;
    candidates.forEach(function (c) {
      const cx = anchor.x + c[0];
      const cy = anchor.y + c[1];
      const box = { left: cx - w, right: cx + w, top: cy - hh, bottom: cy + hh };
      const outside = box.left < area.left || box.right > area.right || box.top < area.top ||
        box.bottom > area.bottom;
      const crossesStart = state.forecast && box.right > start.left && box.left < start.right &&
        box.top < start.bottom;
      const recent = lineHits(points, points.length - 10, box);
      const cost = recent * 100 + (lineHits(points, 0, box) - recent) + bandHits(box, px) * 2 +
        (outside ? 500 : 0) + (crossesStart ? 300 : 0) + Math.hypot(c[0], c[1]) / 100;
      if (!best || cost < best.cost) best = { cost: cost, ax: c[0], ay: c[1], recent: recent };
    });
    chartEl.dataset.labelClear = String(best.recent === 0);
    return Plotly.relayout(chartEl, { "annotations[0].ax": best.ax, "annotations[0].ay": best.ay });
  }

  function draw() {
    const h = page.history;
    const traces = historyTraces(h);
    if (state.forecast) traces.push(...forecastTraces(state.forecast), ...warningTraces());
    const narrow = chartEl.clientWidth < 640; // phones: the legend under the chart
    const range = visibleRange(h);
    const m = marks(h, range);
    const yRange = valueRange(h, range.from);
    const unit = currency ? "Price (" + page.unit + ")" : "Value (" + page.unit + ")";
    const layout = {
      margin: { t: 30, r: 20, b: narrow ? 30 : 40, l: narrow ? 56 : 70 },
      xaxis: { type: "date", range: range.x, rangeslider: { visible: false }, automargin: true },
      yaxis: {
        title: { text: unit + (state.log ? ", log scale" : "") },
        type: state.log ? "log" : "linear", automargin: true,
      },
      legend: Object.assign({ bgcolor: "rgba(255,255,255,0)" },
        narrow ? { orientation: "h", y: -0.12, yanchor: "top" } : { orientation: "h", y: 1.14 }),
      hovermode: "x",
      shapes: m.shapes,
      annotations: m.annotations,
    };
    if (yRange) layout.yaxis.range = yRange;
    const plot = state.drawn ? Plotly.react : Plotly.newPlot;
    return plot(chartEl, traces, layout, config)
      .then(function () { return placeLastPriceLabel(h, range.from); })
      .then(function () {
        state.drawn = true;
        chartEl.dataset.traces = String(traces.length);
        chartEl.dataset.chart = state.chart;
        chartEl.dataset.band = state.bandLabel;
        chartEl.dataset.fan = traces.filter((t) => t.meta).map((t) => t.meta.slice(5)).join(",");
        chartEl.dataset.window = state.window;
        chartEl.dataset.scale = state.log ? "log" : "linear";
        chartEl.dataset.warning = String(traces.some((t) => t.name && t.name.startsWith("⚠")));
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

  // An uploaded series goes back whole: the range buttons only change what the chart shows.
  function seriesBody() {
    const h = page.history;
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
      response = await tickercast.fetch(url, body ? {
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

  function pct(value) {
    return value === null || value === undefined ? "" : Math.round(value * 100) + "%";
  }

  function ratio(value) {
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

  // How such forecasts did, in words a visitor reads without knowing what MASE is.
  function errorWords(mase) {
    if (mase === null || mase === undefined) return "errors that could not be compared with assuming no change";
    const size = mase < 1 - ABOUT_EQUAL ? "smaller than" : mase <= 1 + ABOUT_EQUAL
      ? "about equal to" : "larger than";
    return "errors " + size + " assuming no change (" + ratio(mase) + "× the random walk's)";
  }

  // What the backtest says of the band drawn: its coverage with its 95% interval, warning only
  // when that interval misses the nominal level (the web app words it: data.coverage).
  function bandWords(data) {
    const item = (data.coverage || []).find((b) => b.level === nominal);
    return item ? " " + item.sentence : "";
  }

  // The answer at a glance: where the centre ends, the band there, and how such forecasts did.
  function showAnswer(backtestText) {
    const rows = state.forecast;
    if (!rows || !rows.length) {
      answerEl.hidden = true;
      return;
    }
    const end = rows[rows.length - 1];
    let text = "In " + rows.length + " " + steps(rows.length, state.step) + " (" + end.ds +
      "): " + money(end.yhat) + ", " + nominal + "% band " + money(end.yhat_lower) + "–" +
      money(end.yhat_upper) + ".";
    const data = state.backtest;
    const score = overallScore(data);
    if (score) {
      const reach = data.shortened ? " up to " + data.horizon + " " + steps(data.horizon, data.step) + " ahead" : "";
      const held = bandWords(data);
      text += " Such forecasts, tested at " + data.cutoffs + " past dates" + reach + ": " +
        errorWords(score.relative_mae) + (held ? "." + held
          : "; the band held " + pct(score.coverage) + " of " + score.count + " past prices.");
    } else {
      text += " " + backtestText;
    }
    answerEl.textContent = text;
    answerEl.hidden = false;
  }

  // The odds, by the rule web/odds.py states them in words: the chance of ending below a
  // price at the last date, linear in log price between the two quantiles around it (in the
  // value itself when a quantile is not positive); beyond the outermost quantiles only a bound
  // is known ("under 1%", "over 99%"). Quantiles out of order are put in order first.
  function chanceBelow(price, quantiles) {
    const probabilities = quantiles.map((q) => q.probability);
    const values = quantiles.map((q) => q.value).sort((a, b) => a - b);
    if (price < values[0]) return probabilities[0];
    let i = 0;
    while (i + 1 < values.length && values[i + 1] <= price) i++;
    if (i >= values.length - 1) return probabilities[probabilities.length - 1];
    const scale = values[0] > 0 ? Math.log : (v) => v;
    const low = scale(values[i]);
    const high = scale(values[i + 1]);
    if (!(high > low)) return probabilities[i];
    return probabilities[i] + (scale(price) - low) / (high - low) * (probabilities[i + 1] - probabilities[i]);
  }

  function wholePercent(chance) {
    return Math.floor(chance * 100 + 0.5);
  }

  function chanceWords(price, quantiles, below) {
    const values = quantiles.map((q) => q.value);
    const lowest = "under " + wholePercent(quantiles[0].probability) + "%";
    const highest = "over " + wholePercent(quantiles[quantiles.length - 1].probability) + "%";
    if (price < Math.min(...values)) return below ? lowest : highest;
    if (price > Math.max(...values)) return below ? highest : lowest;
    const chance = chanceBelow(price, quantiles);
    return wholePercent(below ? chance : 1 - chance) + "%";
  }

  const oddsSection = document.getElementById("odds");
  const oddsInput = document.getElementById("odds-price");
  const oddsAnswer = document.getElementById("odds-answer");

  // The odds box's answer for the price typed, from the quantiles the page already has.
  function answerOdds() {
    const price = oddsInput.valueAsNumber;
    const quantiles = state.quantiles;
    if (!quantiles || !Number.isFinite(price)) {
      oddsAnswer.textContent = "";
      oddsAnswer.dataset.state = "empty";
      return;
    }
    oddsAnswer.textContent = "Chance it ends above " + money(price) + " on " + state.oddsDate + ": " +
      chanceWords(price, quantiles, false) + ". Chance it ends below: " +
      chanceWords(price, quantiles, true) + ".";
    oddsAnswer.dataset.state = "answered";
  }

  // The odds at the last date: the API's sentences, and the box that answers for any price.
  function showOdds(data) {
    const rows = data.forecast;
    state.quantiles = data.quantiles && data.quantiles.length && rows.length ? data.quantiles : null;
    list(document.getElementById("odds-text"), data.odds ? data.odds.text : []);
    if (!state.quantiles) {
      oddsSection.hidden = true;
      return;
    }
    state.oddsDate = rows[rows.length - 1].ds.slice(0, 10);
    document.getElementById("odds-label").textContent = (upload ? "Value on " : "Price on ") +
      state.oddsDate + (upload ? "" : ", in " + page.unit);
    const last = lastPrice(page.history);
    if (last) oddsInput.placeholder = Number(last.close).toFixed(2);
    oddsSection.hidden = false;
    answerOdds();
  }

  function hideOdds() {
    state.quantiles = null;
    oddsSection.hidden = true;
  }

  document.getElementById("odds-form").addEventListener("submit", function (event) {
    event.preventDefault();
    answerOdds();
  });
  oddsInput.addEventListener("input", answerOdds);

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
    tickercast.scrollCues();
  }

  // An axis range around `values` at least `floor` wide, so small moves look small.
  function floored(values, floor) {
    const present = values.filter((v) => v !== null);
    const lo = Math.min(...present);
    const hi = Math.max(...present);
    const half = Math.max(hi - lo, floor) * 0.55;
    const mid = (lo + hi) / 2;
    return [mid - half, mid + half];
  }

  // What the parts drawn leave out of the forecast's centre, and how much.
  function leftOutNote(data) {
    const shown = data.components.shown;
    const titles = { trend: "trend", weekly: "weekly effect", yearly: "yearly effect" };
    let most = 0;
    data.forecast.forEach(function (r) {
      const sum = shown.reduce((total, key) => total + (r[key] || 0), 0);
      if (r.yhat !== null) most = Math.max(most, Math.abs(r.yhat - sum));
    });
    const parts = shown.map((key) => titles[key]).join(" + ");
    if (most < 0.005) return "The " + parts + " add up to the forecast's centre drawn above.";
    const hidden = Object.keys(data.components.hidden).map((key) => titles[key] || key);
    const what = hidden.length ? "the " + hidden.join(" and ") + " left out here" : "what is not a component";
    return "The " + parts + " add up to the forecast's centre drawn above except for " + what +
      ": at most " + money(most) + " on any " + steps(1, data.step) + ".";
  }

  // Only the components that mean something for this series, each axis with its unit, and
  // none stretched: every axis spans at least a tenth of the last price.
  function showComponents(data) {
    const rows = data.forecast;
    const shown = data.components.shown;
    const unit = data.components.unit;
    const titles = { trend: "Trend", weekly: "Weekly effect", yearly: "Yearly effect" };
    const last = lastPrice(page.history);
    const floor = last ? Math.abs(last.close) * COMPONENT_FLOOR : 0;
    const x = rows.map((r) => r.ds);
    const layout = {
      grid: { rows: shown.length, columns: 1, pattern: "independent" },
      height: 60 + 170 * shown.length, showlegend: false, margin: { t: 10, r: 20, b: 40, l: 80 },
    };
    const traces = shown.map(function (key, i) {
      const n = i === 0 ? "" : String(i + 1);
      const values = rows.map((r) => r[key]);
      layout["yaxis" + n] = {
        title: { text: titles[key] + " (" + unit + ")" }, range: floored(values, floor), automargin: true,
      };
      layout["xaxis" + n] = { type: "date", automargin: true };
      return {
        type: "scatter", mode: "lines", name: key, x: x, y: values,
        xaxis: "x" + n, yaxis: "y" + n, line: { width: 1.5 },
      };
    });
    list(document.getElementById("components-notes"),
      [leftOutNote(data)].concat(Object.values(data.components.hidden)));
    document.getElementById("components-section").hidden = false;
    const el = document.getElementById("components-chart");
    el.dataset.components = shown.join(",");
    return Plotly.newPlot(el, traces, layout, config)
      .then(function () { el.dataset.state = "drawn"; });
  }

  function noForecastHint(status) {
    if (status !== 400) return " The price history above is still up to date.";
    if (state.method === "calibrated") {
      return " Plain Prophet (the switch above) draws one, though how good it is cannot be measured here.";
    }
    return "";
  }

  async function loadForecast(current) {
    state.forecast = null;
    state.backtest = null;
    state.bandLabel = nominal + "% band";
    state.bandLabels = {};
    answerEl.hidden = true;
    hideOdds();
    const n = seriesBody().ds.length;
    const done = progress(statusEl,
      "Asking the model to forecast " + state.horizon + " " + steps(state.horizon) + " from " + n +
      (upload ? " values…" : " prices…"));
    try {
      const data = upload ? await getJSON("/api/forecast", seriesBody()) : await getJSON(page.forecast_url);
      if (!current()) { done.cancel(); return { ok: false, stale: true }; }
      state.forecast = data.forecast;
      state.step = data.step;
      state.bandLabel = data.band_label;
      await draw();
      const last = data.forecast[data.forecast.length - 1];
      done("ok", (METHOD_NAMES[data.method] || "Forecast") + " for the next " +
        data.forecast.length + " " + steps(data.forecast.length, data.step) + " (to " + (last ? last.ds : "") +
        "), with its " + nominal + "% band.");
      showAnswer("How such forecasts did: being measured…");
      showOdds(data);
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
        ratio(s.interval_score_ratio), pct(s.direction_hit_rate),
      ]);
    }));
    table.hidden = false;
    tickercast.scrollCues();
  }

  // The 95% interval of the drawn band's coverage at each step (the model's bootstrap over
  // origins, from by_level): a shade around the coverage line, on the second chart.
  function coverageShade(data, stepsAhead, mode) {
    const ours = data.scores[data.method].by_step;
    const at = ours.map((s) => (s.by_level || []).find((b) => b.level === nominal) || null);
    if (!at.some((b) => b && b.low !== null && b.high !== null)) return [];
    const edge = (key) => at.map((b) => (b && b[key] !== null ? b[key] * 100 : null));
    const common = { type: "scatter", x: stepsAhead, xaxis: "x2", yaxis: "y2", hoverinfo: "skip" };
    const line = { width: 0, color: "rgba(211, 84, 0, 0.2)" };
    return [
      Object.assign({}, common, { mode: "lines", y: edge("low"), line: line, showlegend: false,
        name: "coverage low" }),
      Object.assign({}, common, {
        mode: mode === "markers" ? "lines+markers" : "lines", y: edge("high"), line: line,
        fill: "tonexty", fillcolor: "rgba(211, 84, 0, 0.2)", name: "95% interval of coverage",
        hoverinfo: "skip",
      }),
    ];
  }

  // Skill against the random walk and band coverage, by steps ahead.
  function showSkill(data) {
    const ours = data.scores[data.method].by_step;
    const drift = data.scores.random_walk_drift ? data.scores.random_walk_drift.by_step : [];
    const stepsAhead = ours.map((s, i) => i + 1);
    const mode = stepsAhead.length > 20 ? "lines" : stepsAhead.length > 1 ? "lines+markers" : "markers";
    const name = METHOD_NAMES[data.method] || data.method;
    const traces = [
      {
        type: "scatter", mode: mode, name: name + " (MASE)", x: stepsAhead,
        y: ours.map((s) => s.relative_mae), line: { color: "#d35400" },
      },
      {
        type: "scatter", mode: mode, name: "random walk with drift (MASE)", x: stepsAhead,
        y: drift.map((s) => s.relative_mae), line: { color: "#7f8c8d", dash: "dash" },
      },
      {
        type: "scatter", mode: "lines", name: "random walk = 1", x: [1, Math.max(stepsAhead.length, 2)],
        y: [1, 1], line: { color: "#1d2733", dash: "dot", width: 1 },
      },
      ...coverageShade(data, stepsAhead, mode),
      {
        type: "scatter", mode: mode, name: name + " band coverage", x: stepsAhead,
        y: ours.map((s) => (s.coverage === null ? null : s.coverage * 100)),
        xaxis: "x2", yaxis: "y2", line: { color: "#d35400" },
      },
      {
        type: "scatter", mode: "lines", name: "nominal " + nominal + "%", x: [1, Math.max(stepsAhead.length, 2)],
        y: [nominal, nominal], xaxis: "x2", yaxis: "y2", line: { color: "#1d2733", dash: "dot", width: 1 },
      },
    ];
    const el = document.getElementById("skill-chart");
    el.hidden = false;
    const narrow = el.clientWidth < 640; // phones: one chart above the other, shorter titles
    const word = steps(2, data.step);
    const ahead = word[0].toUpperCase() + word.slice(1) + " ahead";
    const layout = {
      grid: { rows: narrow ? 2 : 1, columns: narrow ? 1 : 2, pattern: "independent" },
      height: narrow ? 600 : 320, margin: { t: 10, r: 20, b: 50, l: 70 },
      legend: { orientation: "h", y: narrow ? -0.15 : -0.3 },
      xaxis: { title: { text: ahead }, automargin: true },
      yaxis: {
        title: { text: narrow ? "MASE (× random walk)" : "MASE (× random walk's error)" },
        rangemode: "tozero", automargin: true,
      },
      xaxis2: { title: { text: ahead }, automargin: true },
      yaxis2: {
        title: { text: narrow ? "% inside the band" : "% of prices inside the band" },
        range: [0, 100], automargin: true,
      },
    };
    const note = document.getElementById("skill-note");
    note.textContent = "Each " + steps(1, data.step) + "'s coverage rests on " + data.cutoffs +
      " prices (one from each past date), so it moves in steps of " + Math.round(100 / data.cutoffs) +
      " points; the shade is its 95% interval; the figures in the sentences above rest on all " +
      Number(data.scored || 0).toLocaleString("en-US") + ".";
    note.hidden = false;
    return Plotly.newPlot(el, traces, layout, config).then(function () {
      el.dataset.state = "drawn";
      el.dataset.steps = String(stepsAhead.length);
      el.dataset.shade = traces.some((t) => t.fill === "tonexty") ? "drawn" : "none";
    });
  }

  // Why the backtest differs from what was asked (a shorter horizon, fewer origins), and what
  // each of the page's bands held, with its 95% interval.
  function showBacktestNotes(data, shortened, held) {
    const why = [data.shortened, data.fewer].filter(Boolean).join(" ");
    shortened.textContent = why;
    shortened.hidden = !why;
    list(held, (data.coverage || []).map((b) => b.sentence));
  }

  async function loadBacktest(forecast, current) {
    const shortened = document.getElementById("backtest-shortened");
    const verdict = document.getElementById("verdict");
    const table = document.getElementById("backtest-table");
    const skill = document.getElementById("skill-chart");
    const note = document.getElementById("skill-note");
    const held = document.getElementById("backtest-coverage");
    [shortened, verdict, table, skill, note, held].forEach((el) => { el.hidden = true; });
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
      showBacktestNotes(data, shortened, held);
      verdict.textContent = data.verdict;
      verdict.hidden = false;
      showScores(data);
      await showSkill(data);
      done("ok", "Backtested " + data.horizon + " " + steps(data.horizon, data.step) + " ahead at " +
        data.cutoffs + " past dates: " + Number(data.scored).toLocaleString("en-US") + " forecasts scored, " + data.cutoffs + " at each " +
        steps(1, data.step) + ".");
      if (state.forecast) {
        state.backtest = data;
        state.bandLabel = data.band_label;
        state.bandLabels = data.band_labels || {};
        showAnswer("");
        await draw();
      }
    } catch (err) {
      if (!current()) { done.cancel(); return; }
      const refused = err.status === 400;
      done("error", (refused ? "No backtest for this series: " : "No backtest right now: ") +
        sentence(err.message));
      showAnswer("How such forecasts did could not be measured: see below.");
    }
  }

  const candles = form.querySelector('input[value="candles"]');
  if (candles && !page.history.has_ohlc) {
    candles.disabled = true;
    candles.parentElement.title = "This series has no open, high and low prices.";
  }

  // Choices that need no new data: redraw, and keep the URL in step for bookmarks.
  function remember(name, value) {
    if (upload) return;
    const url = new URL(window.location.href);
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
    window.history.replaceState(null, "", url);
  }

  form.querySelectorAll('input[name="chart"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      state.chart = radio.value;
      draw();
      remember("chart", state.chart);
    });
  });

  // The range buttons: how much history the chart shows (the forecast stays the same).
  const rangeButtons = document.querySelectorAll("#chart-tools .range");
  rangeButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      state.window = button.dataset.window;
      rangeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      form.elements.window.value = state.window;
      draw();
      remember("window", state.window);
    });
  });

  logSwitch.checked = state.log;
  logSwitch.addEventListener("change", function () {
    state.log = logSwitch.checked;
    draw();
    remember("scale", state.log ? "log" : null);
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
      state.horizon = Number(form.elements.h.value);
      state.method = form.elements.method.value;
      run();
    });
  } else {
    form.addEventListener("submit", function () {
      // The log switch outlives a new horizon or method.
      if (state.log && !form.elements.scale) {
        const scale = document.createElement("input");
        scale.type = "hidden";
        scale.name = "scale";
        scale.value = "log";
        form.appendChild(scale);
      }
    });
  }

  // A new width is a new layout (the legend's place, the labels' room): draw again.
  let resized = null;
  window.addEventListener("resize", function () {
    clearTimeout(resized);
    resized = setTimeout(function () { if (state.drawn) draw(); }, 200);
  });

  let runs = 0;
  async function run() {
    const mine = ++runs;
    const current = () => mine === runs;
    const forecast = await loadForecast(current);
    if (current()) await loadBacktest(forecast, current);
  }

  draw().then(run);
})();
