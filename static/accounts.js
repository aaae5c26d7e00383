// Account pages: a "copy" button beside a one-time secret, and confirmation of undoing actions.
(function () {
  "use strict";
  function setUp(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (btn) {
      var field = document.querySelector(btn.getAttribute("data-copy"));
      if (!field || !navigator.clipboard || btn.dataset.ready) return;
      btn.dataset.ready = "1";
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
  // Forms that undo something (reset a password, revoke a token) ask first.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  }, true);
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (e) { setUp(e.target); });
})();
