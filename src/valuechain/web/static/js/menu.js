// The main menu on a narrow screen: folded behind the "Menu" button, opened and closed
// by it. Without this script the menu simply wraps, so every link stays reachable.
(function () {
  "use strict";
  function setUp() {
    var header = document.querySelector(".site-header");
    var button = header && header.querySelector(".menu-toggle");
    if (!button) return;
    header.classList.add("site-header--folding");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      header.classList.toggle("site-header--open", open);
    });
    // The "Admin" submenu closes when a click lands elsewhere, as menus do.
    document.addEventListener("click", function (event) {
      document.querySelectorAll(".site-nav__more details[open]").forEach(function (more) {
        if (!more.contains(event.target)) more.open = false;
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
