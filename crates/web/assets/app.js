// citykpi: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Bulk paste: show how many rows will be sent as the user pastes.
  var area = document.getElementById("bulk-rows");
  var counter = document.getElementById("bulk-count");
  if (area && counter) {
    var update = function () {
      var n = area.value.split(/\r?\n/).filter(function (l) { return l.trim() !== ""; }).length;
      counter.textContent = counter.getAttribute("data-template").replace("{n}", String(n));
    };
    area.addEventListener("input", update);
    update();
  }
  // Copy buttons (API token): copy the text of the element named by data-copy.
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (el && navigator.clipboard) { navigator.clipboard.writeText(el.textContent.trim()); }
    });
  });
  // Move focus to an error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
