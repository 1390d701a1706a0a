/* Filters, the probability tooltip and evidence links. Works offline; reads only this page. */
(function () {
  "use strict";
  var labels = JSON.parse(document.getElementById("clf-labels").textContent);
  var units = Array.prototype.slice.call(document.querySelectorAll(".policy .unit"));
  var chips = Array.prototype.slice.call(document.querySelectorAll(".chip[data-code]"));
  var status = document.getElementById("status");
  var probs = document.getElementById("probs");

  function codesOf(unit) { return unit.getAttribute("data-codes").split(" "); }

  function applyFilters() {
    var chosen = chips.filter(function (c) { return c.getAttribute("aria-pressed") === "true"; })
      .map(function (c) { return c.getAttribute("data-code"); });
    var shown = 0;
    units.forEach(function (unit) {
      var match = chosen.length === 0 || codesOf(unit).some(function (c) { return chosen.indexOf(c) >= 0; });
      unit.classList.toggle("filtered-out", !match);
      if (match) { shown += 1; }
    });
    document.querySelectorAll(".policy p").forEach(function (p) {
      p.classList.toggle("empty", p.querySelector(".unit:not(.filtered-out)") === null);
    });
    status.textContent = chosen.length === 0
      ? "Showing all " + units.length + " units."
      : "Showing " + shown + " of " + units.length + " units: those labelled " + chosen.join(" or ") + ".";
  }

  chips.forEach(function (chip) {
    chip.addEventListener("click", function () {
      chip.setAttribute("aria-pressed", chip.getAttribute("aria-pressed") === "true" ? "false" : "true");
      applyFilters();
    });
  });
  document.getElementById("show-all").addEventListener("click", function () {
    chips.forEach(function (chip) { chip.setAttribute("aria-pressed", "false"); });
    applyFilters();
  });

  function showProbabilities(unit) {
    var scores = unit.getAttribute("data-scores").split(" ").map(Number);
    var given = codesOf(unit);
    var table = document.createElement("table");
    var caption = table.createCaption();
    caption.textContent = "Probabilities" + (unit.classList.contains("low") ? " (low confidence)" : "");
    var head = table.createTHead().insertRow();
    ["label", "p", "", "threshold"].forEach(function (name) {
      var cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = name;
      head.appendChild(cell);
    });
    var body = table.createTBody();
    labels.forEach(function (label, i) {
      var row = body.insertRow();
      row.className = "c-" + label.code + (given.indexOf(label.code) >= 0 ? " on" : "");
      var name = document.createElement("th");
      name.scope = "row";
      name.textContent = label.code + " " + label.label;
      row.appendChild(name);
      var p = row.insertCell();
      p.className = "p";
      p.textContent = scores[i].toFixed(2);
      var bar = row.insertCell();
      var fill = document.createElement("span");
      fill.className = "bar";
      fill.style.width = Math.round(scores[i] * 60) + "px";
      bar.appendChild(fill);
      var t = row.insertCell();
      t.className = "p";
      t.textContent = "≥ " + label.threshold.toFixed(2);
    });
    probs.replaceChildren(table);
    probs.hidden = false;
    var box = unit.getBoundingClientRect();
    var left = Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - probs.offsetWidth - 8);
    probs.style.left = Math.max(window.scrollX + 4, left) + "px";
    probs.style.top = (window.scrollY + box.bottom + 6) + "px";
  }

  function hideProbabilities() { probs.hidden = true; }

  document.addEventListener("focusin", function (event) {
    var unit = event.target.closest && event.target.closest(".policy .unit");
    if (unit) { showProbabilities(unit); } else { hideProbabilities(); }
  });
  document.addEventListener("mouseover", function (event) {
    var unit = event.target.closest && event.target.closest(".policy .unit");
    if (unit) { showProbabilities(unit); }
  });
  document.addEventListener("mouseout", function (event) {
    var unit = event.target.closest && event.target.closest(".policy .unit");
    if (unit && !unit.contains(event.relatedTarget) && document.activeElement !== unit) { hideProbabilities(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hideProbabilities(); }
  });

  /* An evidence link to a unit the filters hide shows everything again, then moves focus to that unit. */
  document.querySelectorAll('#summary a[href^="#u"]').forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      if (target.classList.contains("filtered-out")) { document.getElementById("show-all").click(); }
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
      history.replaceState(null, "", "#" + target.id);
    });
  });
})();
