// The small script layer: every page works without it; it only enhances.
(function () {
  "use strict";
  // Move focus to an error summary so keyboard and screen-reader users hear it first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
})();
