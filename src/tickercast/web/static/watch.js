// The watchlist page: its rows of prices come in the HTML; this draws each row's sparkline,
// asks /api/watch for the forecasts, backtests and track records and fills the rows, sorts
// the table by any column, and adds or removes tickers (the list lives in the address; this
// browser remembers the last one).
"use strict";
(function () {
  const STORE = "tickercast.watchlist";
  const SVG = "http://www.w3.org/2000/svg";
  const W = 132, H = 36;
  const dataEl = document.getElementById("page-data");
  if (!dataEl) return;
  const data = JSON.parse(dataEl.textContent);
  const table = document.getElementById("watch-table");
  const statusEl = document.getElementById("watch-status");
  const rows = {}; // by ticker: the row's data, filled as the answers come
  data.rows.forEach(function (r) { rows[r.ticker] = r; });

  function remembered() {
    try { return window.localStorage.getItem(STORE); } catch (e) { return null; }
  }
  function remember(list) {
    try { window.localStorage.setItem(STORE, list.join(",")); } catch (e) { /* private mode */ }
  }
  function go(list) {
    remember(list);
    const q = new URLSearchParams({ tickers: list.join(","), h: String(data.horizon) });
    window.location.assign("/watch?" + q.toString());
  }

  // Opened without a list: the one this browser kept, when it kept one.
  if (!data.from_url) {
    const kept = remembered();
    if (kept && kept !== data.tickers.join(",")) {
      window.location.replace("/watch?" + new URLSearchParams({ tickers: kept, h: String(data.horizon) }));
      return;
    }
  } else {
    remember(data.tickers);
  }

  function el(name, attrs) {
    const node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach((k) => node.setAttribute(k, String(attrs[k])));
    return node;
  }

  // Six months of prices, then the forecast's centre and band out to the horizon.
  function sparkline(row) {
    const cell = table.querySelector('tr[data-ticker="' + CSS.escape(row.ticker) + '"] .c-spark');
    if (!cell || !row.spark) return;
    const closes = row.spark.close;
    const fan = row.fan;
    const ahead = fan ? fan.step[fan.step.length - 1] : 0;
    const span = closes.length - 1 + ahead || 1;
    const values = closes.concat(fan ? fan.lower.concat(fan.upper).filter((v) => v !== null) : []);
    const lo = Math.min(...values), hi = Math.max(...values);
    const x = (i) => (i / span * (W - 2) + 1).toFixed(1);
    const y = (v) => (H - 2 - (hi === lo ? 0.5 : (v - lo) / (hi - lo)) * (H - 4)).toFixed(1);
    const svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": row.ticker + ": six months of prices" + (fan ? " and the forecast's band" : "") });
    const start = closes.length - 1;
    if (fan) {
      const upper = fan.step.map((s, i) => x(start + s) + "," + y(fan.upper[i]));
      const lower = fan.step.map((s, i) => x(start + s) + "," + y(fan.lower[i])).reverse();
      const first = x(start) + "," + y(closes[start]);
      svg.appendChild(el("polygon", { points: [first].concat(upper, lower).join(" "), fill: "#f5cba7" }));
      const centre = [first].concat(fan.step.map((s, i) => x(start + s) + "," + y(fan.yhat[i])));
      svg.appendChild(el("polyline", { points: centre.join(" "), fill: "none", stroke: "#d35400", "stroke-width": 1.2 }));
    }
    const line = closes.map((v, i) => x(i) + "," + y(v)).join(" ");
    svg.appendChild(el("polyline", { points: line, fill: "none", stroke: "#1f4e79", "stroke-width": 1.2 }));
    cell.replaceChildren(svg);
  }

  const pct = (v) => (v === null || v === undefined ? "—" : Math.round(v * 100) + "%");
  const num = (v) => (v === null || v === undefined ? "—" : v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));

  // What each sortable column sorts by, from a row's data.
  const KEYS = {
    ticker: (r) => r.ticker,
    last: (r) => r.last,
    change: (r) => (r.forecast !== null && r.last ? r.forecast / r.last - 1 : null),
    band: (r) => (r.upper !== null && r.lower !== null && r.last ? (r.upper - r.lower) / r.last : null),
    chance_higher: (r) => r.chance_higher,
    band_ratio: (r) => r.band_ratio,
    backtest_mase: (r) => r.backtest_mase,
    backtest_coverage: (r) => r.backtest_coverage,
    record_mase: (r) => r.record_mase,
  };

  function set(tr, column, text, title) {
    const cell = tr.querySelector(".c-" + column);
    cell.textContent = text;
    if (title) cell.title = title; else cell.removeAttribute("title");
  }

  function fill(row) {
    const tr = table.querySelector('tr[data-ticker="' + CSS.escape(row.ticker) + '"]');
    if (!tr || row.error) return;
    const change = KEYS.change(row);
    const why = row.forecast_error;
    set(tr, "change", change === null ? "—" : num(row.forecast) + " (" + (change >= 0 ? "+" : "") + (change * 100).toFixed(1) + "%)", why);
    set(tr, "band", row.lower === null || row.lower === undefined ? "—" : num(row.lower) + " – " + num(row.upper), why);
    set(tr, "chance_higher", pct(row.chance_higher), why);
    const bt = row.backtest_mase === null || row.backtest_mase === undefined;
    set(tr, "backtest_mase", bt ? "—" : row.backtest_mase.toFixed(2) + (row.backtest_horizon !== data.horizon ? " (" + row.backtest_horizon + " d)" : ""), row.backtest_error);
    set(tr, "backtest_coverage", pct(row.backtest_coverage), row.backtest_error);
    const rec = row.record_mase === null || row.record_mase === undefined;
    set(tr, "record_mase", rec ? "—" : row.record_mase.toFixed(2) + ", held " + pct(row.record_coverage),
      row.record_error || (rec ? "No forecast of this ticker scored yet." :
        row.record_scored.toLocaleString("en-US") + " prices scored: MASE, and how often the band held"));
    if (why) set(tr, "change", "no forecast", why);
  }

  function sortBy(th) {
    const key = th.dataset.key;
    const descending = th.getAttribute("aria-sort") === "ascending";
    table.querySelectorAll("th[aria-sort]").forEach((h) => h.setAttribute("aria-sort", "none"));
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const body = table.tBodies[0];
    const trs = Array.from(body.rows);
    const value = (tr) => { const v = KEYS[key](rows[tr.dataset.ticker] || {}); return v === undefined ? null : v; };
    trs.sort(function (a, b) {
      const va = value(a), vb = value(b);
      if (va === null || vb === null) return va === null ? (vb === null ? 0 : 1) : -1; // unknown last
      const order = typeof va === "string" ? va.localeCompare(vb) : va - vb;
      return descending ? -order : order;
    });
    trs.forEach((tr) => body.appendChild(tr));
  }

  table.querySelectorAll("th[aria-sort] button.sort").forEach(function (button) {
    button.addEventListener("click", () => sortBy(button.closest("th")));
  });
  table.querySelectorAll("button.remove").forEach(function (button) {
    button.addEventListener("click", function () {
      const index = Number(button.dataset.index); // the list's own item (a row shows 20 characters)
      go(data.tickers.filter((t, i) => i !== index));
    });
  });
  document.getElementById("watch-add").addEventListener("submit", function (event) {
    event.preventDefault();
    const input = document.getElementById("watch-add-input");
    const added = input.value.split(",").map((t) => t.trim().toUpperCase()).filter((t) => t);
    if (!added.length) return;
    go(data.tickers.concat(added.filter((t) => !data.tickers.includes(t))));
  });
  document.getElementById("watch-horizon").addEventListener("change", function () {
    document.getElementById("watch-form").requestSubmit();
  });

  data.rows.forEach(sparkline);
  window.tickercast.scrollCues();
  tickercast.fetch(data.api_url, { headers: { Accept: "application/json" } })
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.message || "The forecasts could not be loaded.");
        return body;
      });
    })
    .then(function (body) {
      body.rows.forEach(function (r) {
        rows[r.ticker] = r;
        fill(r);
        sparkline(r);
      });
      const missing = body.rows.filter((r) => r.error || r.forecast_error).length;
      statusEl.classList.remove("busy");
      statusEl.textContent = missing ? missing + " of " + body.rows.length + " tickers have no forecast: each row says why." : "";
      table.dataset.filled = "true";
      window.tickercast.scrollCues();
    })
    .catch(function (error) {
      statusEl.classList.remove("busy");
      statusEl.classList.add("error");
      statusEl.textContent = error.message;
    });
})();
