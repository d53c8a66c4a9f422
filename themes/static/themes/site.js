// The phone menu of every page: a real button that says whether the menu is open (aria-expanded).
// Loaded as a static file (the Content-Security-Policy allows no inline script). Without it the
// menu is simply always shown.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var toggle = document.querySelector(".menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!toggle || !menu) { return; }
    toggle.hidden = false;
    menu.setAttribute("data-open", "false");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.setAttribute("data-open", String(open));
      if (open) {
        var first = menu.querySelector("input, a, button");
        if (first) { first.focus(); }
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        menu.setAttribute("data-open", "false");
        toggle.focus();
      }
    });
  });
})();
