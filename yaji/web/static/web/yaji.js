// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function initNav() {
    var toggle = document.querySelector("[data-nav-toggle]");
    var nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("is-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // A "send code" reply carries data-cooldown="N": disable the button and count down.
  function startCooldown(root) {
    var status = root.querySelector ? root.querySelector("[data-cooldown]") : null;
    if (!status && root.hasAttribute && root.hasAttribute("data-cooldown")) status = root;
    if (!status) return;
    var seconds = parseInt(status.getAttribute("data-cooldown"), 10);
    var button = document.querySelector("[data-send-code]");
    status.removeAttribute("data-cooldown");  // count down once per reply
    if (!button || !(seconds > 0) || button.disabled) return;
    var label = button.getAttribute("data-label") || button.textContent;
    var template = button.getAttribute("data-wait-label") || "%s";
    button.setAttribute("data-label", label);
    button.disabled = true;
    var tick = function () {
      if (seconds <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = template.replace("%s", seconds);
      seconds -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    initNav();
    startCooldown(document);
  });
  // htmx:load fires on each newly swapped-in element (also after an outerHTML swap).
  document.addEventListener("htmx:load", function (event) {
    startCooldown(event.detail.elt || document);
  });
})();
