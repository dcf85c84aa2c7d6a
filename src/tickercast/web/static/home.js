// The home page's watchlist: the last price of each of its tickers (from /api/watch/prices),
// and the link to the list this browser kept, when it kept one.
"use strict";
(function () {
  const link = document.getElementById("home-watch-link");
  const cells = document.querySelectorAll("[data-watch-price]");
  if (!link || !cells.length) return;
  let kept = null;
  try { kept = window.localStorage.getItem("tickercast.watchlist"); } catch (e) { /* private mode */ }
  if (kept) {
    link.href = "/watch?" + new URLSearchParams({ tickers: kept }).toString();
    link.textContent = "Open your watchlist";
  }
  const tickers = Array.from(cells).map((c) => c.dataset.watchPrice);
  tickercast.fetch("/api/watch/prices?" + new URLSearchParams({ tickers: tickers.join(",") }).toString())
    .then((response) => (response.ok ? response.json() : { rows: [] }))
    .then(function (body) {
      body.rows.forEach(function (row, i) {
        const cell = cells[i];
        if (!cell) return;
        cell.textContent = row.last === null ? "no prices" :
          row.last.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " on " + row.last_date;
      });
    })
    .catch(function () { /* the links still work */ });
})();
