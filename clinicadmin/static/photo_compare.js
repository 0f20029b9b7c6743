// The comparison slider: the range input uncovers the earlier photo (left) over the later one (right), both in one
// box at the same size. A static file, so the Content-Security-Policy needs no inline script for it.
document.addEventListener("DOMContentLoaded", function () {
  var range = document.getElementById("photo-slider-range");
  var over = document.getElementById("photo-slider-over");
  if (!range || !over) { return; }
  function show() {
    var shown = Math.max(0, Math.min(100, Number(range.value)));
    over.style.clipPath = "inset(0 " + (100 - shown) + "% 0 0)";
    over.setAttribute("data-shown", String(shown));
  }
  range.addEventListener("input", show);
  show();
});
