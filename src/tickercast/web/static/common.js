// What every page shares: a table wider than its box scrolls sideways inside it, and a line
// above it says so (a phone shows no scroll bar until the table is touched).
"use strict";
window.tickercast = {
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
