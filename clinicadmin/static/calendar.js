// Moving a booking on the appointment book: drag it onto another time (in any practitioner's column) and confirm.
// The move is the booking page's reschedule, posted as a form: the server checks it as it checks any move (the
// booking window, conflicts, screening again as of the new day) and refuses a booking moved by someone else
// meanwhile (it sends the time the page showed). Without this script the book still reads and books.
(function () {
  "use strict";
  var form = document.getElementById("cal-move-form");
  if (!form) { return; }
  var dragged = null;

  // A slot is half an hour: a drop on its lower half is a quarter past its time.
  function quarterOf(slot, event) {
    var at = slot.dataset.at;
    var box = slot.getBoundingClientRect();
    if (event.clientY - box.top < box.height / 2) { return at; }
    var hour = parseInt(at.slice(11, 13), 10), minute = parseInt(at.slice(14, 16), 10) + 15;
    return at.slice(0, 11) + String(hour).padStart(2, "0") + ":" + String(minute).padStart(2, "0");
  }

  function slotFrom(target) {
    return target && target.closest ? target.closest(".cal-slot") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".cal-block[data-move]");
    if (!block) { return; }
    dragged = block;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.dataset.from || "");
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
    var at = quarterOf(slot, event);
    var name = block.querySelector(".cal-who");
    if (!window.confirm("Move " + (name ? name.textContent : "this booking") + " to " + at.replace("T", " ") +
                        " (" + who + ")?")) {
      return;
    }
    var target = new URL(slot.href, window.location.href).searchParams;
    form.action = block.dataset.move;
    form.elements.scheduled_at.value = at;
    // A room's column keeps the booking's practitioner and moves it into that room; a practitioner's column gives
    // it to them.
    form.elements.practitioner.value = target.get("practitioner") || block.dataset.practitioner;
    form.elements.resource.value = target.get("resource") || "";
    form.elements.location.value = target.get("location");
    form.elements.expected_at.value = block.dataset.from;
    form.submit();
  });
})();
