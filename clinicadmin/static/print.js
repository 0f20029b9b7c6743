// Print buttons: kept out of inline handlers so a strict Content-Security-Policy can forbid inline script.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-button");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
});
