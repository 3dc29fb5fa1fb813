/* Commons Ledger: the opening-balances grid (期初余额). The trial balance (试算平衡) per unit,
 * recomputed as amounts are typed; the server checks it again on save. Amounts are parsed
 * from the text into integer fen (BigInt), never through floating point.
 * Keys: Enter or ArrowDown moves to the same column one row down, ArrowUp one row up.
 * SPDX-License-Identifier: AGPL-3.0-or-later */
(function () {
  "use strict";
  var form = document.getElementById("opening-form");
  var grid = document.getElementById("opening-grid");
  var totals = document.getElementById("opening-totals");
  if (!form || !grid || !totals) { return; }
  var AMOUNT = /^(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.([0-9]{1,2}))?$/;
  var baseUnit = form.getAttribute("data-base-unit") || "CNY";

  // "1,234.5" → 123450n; "" → 0n; anything else → null.
  function fen(text) {
    text = text.trim();
    if (text === "") { return BigInt(0); }
    var m = AMOUNT.exec(text);
    if (!m) { return null; }
    var parts = text.replace(/,/g, "").split(".");
    var cents = ((parts[1] || "") + "00").slice(0, 2);
    return BigInt(parts[0]) * BigInt(100) + BigInt(cents);
  }

  function show(n) {
    var neg = n < 0;
    if (neg) { n = -n; }
    var s = n.toString();
    while (s.length < 3) { s = "0" + s; }
    return (neg ? "-" : "") + s.slice(0, -2) + "." + s.slice(-2);
  }

  function rows() { return grid.querySelectorAll("tbody tr:not(.heading)"); }

  function recompute() {
    var sums = {};
    var bad = false;
    rows().forEach(function (tr) {
      var unitInput = tr.querySelector("input.unit");
      var unit = (unitInput && unitInput.value.trim()) || baseUnit;
      tr.querySelectorAll("input.amount").forEach(function (input) {
        var v = fen(input.value);
        if (v === null) {
          bad = true;
          input.setAttribute("aria-invalid", "true");
          return;
        }
        input.removeAttribute("aria-invalid");
        if (v === BigInt(0)) { return; }
        if (!sums[unit]) { sums[unit] = { debit: BigInt(0), credit: BigInt(0) }; }
        sums[unit][input.getAttribute("data-side")] += v;
      });
    });
    var body = totals.querySelector("tbody");
    while (body.firstChild) { body.removeChild(body.firstChild); }
    Object.keys(sums).sort().forEach(function (unit) {
      var s = sums[unit];
      var tr = document.createElement("tr");
      tr.setAttribute("data-unit", unit);
      tr.className = s.debit === s.credit ? "ok" : "bad";
      var check = s.debit === s.credit
        ? form.getAttribute("data-balanced")
        : form.getAttribute("data-differs") + " " + show(s.debit > s.credit ? s.debit - s.credit : s.credit - s.debit);
      [unit, show(s.debit), show(s.credit), check].forEach(function (text, i) {
        var td = document.createElement("td");
        if (i === 1 || i === 2) { td.className = "num"; }
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    totals.classList.toggle("has-bad-amount", bad);
    if (bad) {
      var tr = document.createElement("tr");
      tr.className = "bad";
      var td = document.createElement("td");
      td.colSpan = 4;
      td.textContent = form.getAttribute("data-bad");
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  // Spreadsheet keys: move along the column without reaching for the mouse.
  grid.addEventListener("keydown", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches("input")) { return; }
    var down = ev.key === "ArrowDown" || (ev.key === "Enter" && !ev.shiftKey);
    var up = ev.key === "ArrowUp" || (ev.key === "Enter" && ev.shiftKey);
    if (!down && !up) { return; }
    ev.preventDefault();
    var name = input.name.replace(/^rows-[0-9]+-/, "");
    var tr = input.closest("tr");
    for (var next = down ? tr.nextElementSibling : tr.previousElementSibling; next;
         next = down ? next.nextElementSibling : next.previousElementSibling) {
      var target = next.querySelector("input[name$='-" + name + "']:not([type=hidden])");
      if (target) { target.focus(); target.select(); return; }
    }
  });
  grid.addEventListener("input", recompute);
  recompute();
})();
