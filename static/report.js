// The monthly report: a Print button (the page prints cleanly on A4 through report.css).
// Loaded from the page body, so it may run again after an htmx navigation: bind once.
(function () {
  "use strict";
  if (window.__mttqReportPrint) return;
  window.__mttqReportPrint = true;
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-print]");
    if (btn) { e.preventDefault(); window.print(); }
  });
})();
