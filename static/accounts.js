// Account pages: a "copy" button beside a one-time secret (token or temporary password).
(function () {
  "use strict";
  function setUp(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (btn) {
      var field = document.querySelector(btn.getAttribute("data-copy"));
      if (!field || !navigator.clipboard) return;
      btn.hidden = false;
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          btn.textContent = btn.getAttribute("data-done");
        }, function () {
          field.select();
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (e) { setUp(e.target); });
})();
