// Keyboard shortcuts for the moderators' desk: j/k move between cards, a/r/s press
// the current card's approve/reject/spam button, x ticks it. The page works without
// this file: every button is a plain form button.
(function () {
  "use strict";
  function cards() { return Array.prototype.slice.call(document.querySelectorAll(".desk-card[data-key]")); }
  var current = -1;
  function select(index) {
    var list = cards();
    if (!list.length) { return; }
    index = Math.max(0, Math.min(list.length - 1, index));
    if (current >= 0 && list[current]) { list[current].classList.remove("is-current"); }
    current = index;
    list[current].classList.add("is-current");
    list[current].focus({ preventScroll: true });
    list[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var key = event.key;
    if (key === "j") { select(current + 1); event.preventDefault(); return; }
    if (key === "k") { select(current < 0 ? 0 : current - 1); event.preventDefault(); return; }
    var list = cards();
    var card = list[current];
    if (!card) { return; }
    if (key === "x") {
      var box = card.querySelector("input[name=selected]");
      if (box) { box.checked = !box.checked; }
      event.preventDefault();
      return;
    }
    var button = card.querySelector("[data-key-action='" + key + "']");
    if (button) { event.preventDefault(); button.click(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var list = cards();
    var hash = window.location.hash.slice(1);
    list.forEach(function (card, index) {
      card.addEventListener("click", function () { if (current !== index) { select(index); } });
      if (hash && card.id === hash) { select(index); }
    });
    var all = document.querySelector("input[name=all_matching]");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input[name=selected]").forEach(function (box) { box.checked = all.checked; });
      });
    }
  });
})();
