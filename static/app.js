// Site-wide behaviour. No inline script anywhere (the CSP forbids it): pages add behaviour here.
(function () {
  "use strict";
  // Every htmx request carries the session's CSRF token.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });
})();
