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
  // Long checkbox lists (a demonstration's partner members): a search box
  // hides the entries whose text does not contain what was typed (NFKC and
  // lower case, like the server's search); ticked entries always stay.
  Array.prototype.forEach.call(document.querySelectorAll("input[data-filter-for]"), function (box) {
    var list = document.getElementById(box.getAttribute("data-filter-for"));
    if (!list) { return; }
    box.hidden = false;
    var fold = function (s) { return (s.normalize ? s.normalize("NFKC") : s).toLowerCase(); };
    var count = document.getElementById(box.getAttribute("data-filter-for") + "-shown");
    var apply = function () {
      var q = fold(box.value.trim());
      var shown = 0;
      Array.prototype.forEach.call(list.children, function (item) {
        var ticked = item.querySelector("input:checked") !== null;
        var hit = q === "" || ticked || fold(item.textContent).indexOf(q) >= 0;
        item.hidden = !hit;
        if (hit) { shown += 1; }
      });
      if (count) { count.textContent = String(shown); }
    };
    box.addEventListener("input", apply);
    apply();
  });
  // Move focus to an error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
