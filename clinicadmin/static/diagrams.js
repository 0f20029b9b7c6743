// A diagram on the recording form mirrors its tick-list: tapping a point or area ticks (or unticks) its code in the
// list, and the drawing shows what is ticked and which box has the keyboard's focus. The tick-list stays the form's
// field, so the form works the same without this script, from the keyboard and with a screen reader.
(function () {
  document.querySelectorAll("figure.diagram-form[data-field]").forEach(function (figure) {
    var form = figure.closest("form");
    if (!form) { return; }
    var name = figure.dataset.field;
    function boxes() {
      return Array.prototype.filter.call(form.querySelectorAll("input[type=checkbox]"), function (box) {
        return box.name === name;
      });
    }
    function box(code) {
      return boxes().filter(function (candidate) { return candidate.value === code; })[0];
    }
    function shapes(code) {
      return Array.prototype.filter.call(figure.querySelectorAll(".diagram-shape"), function (shape) {
        return shape.getAttribute("data-code") === code;
      });
    }
    function show() {
      boxes().forEach(function (candidate) {
        shapes(candidate.value).forEach(function (shape) { shape.classList.toggle("chosen", candidate.checked); });
      });
    }
    figure.addEventListener("click", function (event) {
      var shape = event.target.closest(".diagram-shape");
      var target = shape && box(shape.getAttribute("data-code"));
      if (!target) { return; }
      target.checked = !target.checked;
      target.dispatchEvent(new Event("change", { bubbles: true }));
    });
    form.addEventListener("change", function (event) {
      if (event.target.name === name) { show(); }
    });
    boxes().forEach(function (candidate) {
      candidate.addEventListener("focus", function () {
        shapes(candidate.value).forEach(function (shape) { shape.classList.add("focused"); });
      });
      candidate.addEventListener("blur", function () {
        shapes(candidate.value).forEach(function (shape) { shape.classList.remove("focused"); });
      });
    });
    figure.classList.add("diagram-live");
    show();
  });
})();
