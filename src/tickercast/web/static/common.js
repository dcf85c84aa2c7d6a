// What every page shares: a table wider than its box scrolls sideways inside it, and a line
// above it says so (a phone shows no scroll bar until the table is touched); and `fetch`, which
// asks a GET again once when the connection broke: a web app stopped mid-answer cuts the
// answer, which a load balancer can resend only before the answer has begun.
"use strict";
window.tickercast = {
  fetch: function (url, init) {
    const method = ((init && init.method) || "GET").toUpperCase();
    // The whole body read here, so an answer cut short fails like a refused connection.
    const whole = function () {
      return window.fetch(url, init).then(function (response) {
        return response.arrayBuffer().then(function (buffer) {
          const empty = [101, 204, 205, 304].indexOf(response.status) >= 0;
          return new Response(empty ? null : buffer, {
            status: response.status, statusText: response.statusText, headers: response.headers,
          });
        });
      });
    };
    return whole().catch(function (err) {
      if (method !== "GET") throw err;
      return whole();
    });
  },
  scrollCues: function () {
    document.querySelectorAll(".scroll").forEach(function (box) {
      let cue = box.previousElementSibling;
      if (!cue || !cue.classList.contains("scroll-cue")) {
        cue = document.createElement("p");
        cue.className = "scroll-cue";
        cue.textContent = "Wider than the screen: swipe the table sideways for every column →";
        box.before(cue);
      }
      const wider = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("scrolls-x", wider);
      cue.hidden = !wider;
    });
  },
};
window.addEventListener("resize", window.tickercast.scrollCues);
document.addEventListener("DOMContentLoaded", window.tickercast.scrollCues);
