/* "Listen and grab": the grab buttons of packets bound to this work unlock when the player
   shows the verified completion (community/player.js un-hides [data-complete] on the server's
   say-so). The server checks the play record again on every grab; this is only the UI. */
(function () {
  "use strict";
  var panel = document.querySelector("[data-listen-grab]");
  if (!panel) return;
  var done = document.querySelector("[data-complete]");
  function unlock() {
    panel.querySelectorAll("[data-grab-button]").forEach(function (b) { b.disabled = false; });
    var hint = panel.querySelector("[data-listen-hint]");
    if (hint) hint.hidden = true;
    panel.dataset.listened = "1";
  }
  if (panel.dataset.listened === "1" || (done && !done.hidden)) { unlock(); return; }
  if (!done) return;
  new MutationObserver(function () { if (!done.hidden) unlock(); })
    .observe(done, { attributes: true, attributeFilter: ["hidden"] });
})();
