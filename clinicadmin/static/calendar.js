// Moving a booking on the appointment book: drag it onto another time (in any practitioner's column) and confirm.
// The move is the booking page's reschedule, posted as a form: the server checks it as it checks any move (the
// booking window, conflicts, screening again as of the new day) and refuses a booking moved by someone else
// meanwhile (it sends the time the page showed). Without this script the book still reads and books.
(function () {
  "use strict";
  var form = document.getElementById("cal-move-form");
  if (!form) { return; }
  var dragged = null;

  function slotFrom(target) {
    return target && target.closest ? target.closest(".cal-slot") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".cal-block[data-move]");
    if (!block) { return; }
    dragged = block;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.dataset.label || "");
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".cal-drop").forEach(function (slot) { slot.classList.remove("cal-drop"); });
  });
  document.addEventListener("dragover", function (event) {
    var slot = slotFrom(event.target);
    if (dragged && slot) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      slot.classList.add("cal-drop");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var slot = slotFrom(event.target);
    if (slot) { slot.classList.remove("cal-drop"); }
  });
  document.addEventListener("drop", function (event) {
    var slot = slotFrom(event.target);
    if (!dragged || !slot) { return; }
    event.preventDefault();
    var block = dragged;
    dragged = null;
    slot.classList.remove("cal-drop");
    var column = slot.closest(".cal-col");
    var who = column ? column.getAttribute("aria-label") : "";
    var when = slot.dataset.at.replace("T", " ");
    if (!window.confirm("Move " + (block.dataset.label || "this booking") + " to " + when + " (" + who + ")?")) {
      return;
    }
    form.action = block.dataset.move;
    form.elements.scheduled_at.value = slot.dataset.at;
    form.elements.practitioner.value = slot.dataset.practitioner;
    form.elements.location.value = slot.dataset.location;
    form.elements.expected_at.value = block.dataset.from;
    form.submit();
  });
})();
