// rolehop console: the little JavaScript there is. Everything works without it; this only
// opens the Services panel in place (instead of the Services page), filters it as you type,
// and closes menus on Escape or a click elsewhere.
(function () {
  "use strict";

  function closeAll(except) {
    document.querySelectorAll("[data-menu]").forEach(function (menu) {
      if (menu === except) return;
      if (menu.tagName === "DETAILS") { menu.open = false; return; }
      var toggle = menu.querySelector("[data-menu-toggle]");
      var panel = menu.querySelector("[data-menu-panel]");
      if (toggle && panel) { toggle.setAttribute("aria-expanded", "false"); panel.hidden = true; }
    });
  }

  document.querySelectorAll("[data-menu-toggle]").forEach(function (toggle) {
    var menu = toggle.closest("[data-menu]");
    var panel = menu.querySelector("[data-menu-panel]");
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      var opening = panel.hidden;
      closeAll(menu);
      panel.hidden = !opening;
      toggle.setAttribute("aria-expanded", opening ? "true" : "false");
      if (opening) {
        var search = panel.querySelector("input[type=search]");
        if (search) search.focus();
      }
    });
  });

  document.querySelectorAll("details[data-menu]").forEach(function (details) {
    details.addEventListener("toggle", function () { if (details.open) closeAll(details); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.activeElement && document.activeElement.closest("[data-menu]");
    closeAll(null);
    if (open) {
      var focusTarget = open.querySelector("[data-menu-toggle], summary");
      if (focusTarget) focusTarget.focus();
    }
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-menu]")) closeAll(null);
  });

  document.querySelectorAll("[data-service-search]").forEach(function (form) {
    var panel = form.closest("[data-menu-panel]");
    var input = form.querySelector("input[type=search]");
    var items = panel.querySelectorAll("[data-service]");
    var none = panel.querySelector(".no-match");
    function visible() {
      return Array.prototype.filter.call(items, function (item) { return !item.hidden; });
    }
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      items.forEach(function (item) {
        var text = item.getAttribute("data-service").toLowerCase();
        item.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
      });
      none.hidden = visible().length !== 0;
    });
    form.addEventListener("submit", function (event) {
      var shown = visible();
      if (shown.length >= 1) {
        event.preventDefault();
        window.location.href = shown[0].querySelector("a").getAttribute("href");
      }
    });
  });
})();
