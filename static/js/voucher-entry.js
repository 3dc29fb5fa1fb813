/* Commons Ledger: the voucher entry form (记账凭证录入), quick from the keyboard.
 *
 * - Running debit and credit totals and their difference as you type. Money is exact:
 *   amounts are parsed from the text into integer minor units (fen) as BigInt by string
 *   manipulation, never through floating point.
 * - Enter moves to the next field (Ctrl/Cmd+Enter saves); Tab past the last line adds a line;
 *   "=" in an empty amount cell fills in the amount that balances the voucher.
 * - Account cells accept a code ("1002") or a name and are completed to "code name" from
 *   accounts.json; unknown ones are marked.
 * Without this script the form still works: the server checks and re-renders it.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
(function () {
  "use strict";
  var form = document.getElementById("voucher-form");
  if (!form) { return; }
  var body = document.getElementById("lines-body");
  var template = document.getElementById("line-template");
  var exp = parseInt(form.getAttribute("data-exponent") || "2", 10);
  var allowNegative = form.getAttribute("data-allow-negative") === "1";
  var out = {
    debit: document.getElementById("total-debit"),
    credit: document.getElementById("total-credit"),
    diff: document.getElementById("difference")
  };
  var SCALE = BigInt(10) ** BigInt(exp);

  function text(name) { return form.getAttribute("data-text-" + name) || ""; }

  /* "1,234.56" → 123456n; "" → null; not an amount → undefined. */
  function parseMinor(raw) {
    var t = String(raw).replace(/[\s,，¥￥]/g, "");
    if (t === "") { return null; }
    var m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(t);
    if (!m || (m[2] + (m[3] || "")) === "") { return undefined; }
    var frac = m[3] || "";
    if (frac.length > exp) { return undefined; }
    if (m[1] === "-" && !allowNegative) { return undefined; }
    while (frac.length < exp) { frac += "0"; }
    var v = BigInt(m[2] || "0") * SCALE + BigInt(frac || "0");
    return m[1] === "-" ? -v : v;
  }

  /* 123456n → "1,234.56" (grouped) or "1234.56" (plain, for filling a cell). */
  function formatMinor(v, grouped) {
    var neg = v < 0n;
    var s = (neg ? -v : v).toString();
    while (s.length <= exp) { s = "0" + s; }
    var whole = exp ? s.slice(0, s.length - exp) : s;
    var frac = exp ? "." + s.slice(s.length - exp) : "";
    if (grouped) { whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
    return (neg ? "-" : "") + whole + frac;
  }

  function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr.line")); }

  function sums(except) {
    var dr = 0n, cr = 0n;
    body.querySelectorAll("input.amount").forEach(function (input) {
      var v = parseMinor(input.value);
      var bad = v === undefined;
      input.classList.toggle("invalid", bad);
      if (bad) { input.setAttribute("aria-invalid", "true"); input.title = text("bad-amount"); }
      else { input.removeAttribute("aria-invalid"); input.removeAttribute("title"); }
      if (input === except || v === null || v === undefined) { return; }
      if (input.classList.contains("debit")) { dr += v; } else { cr += v; }
    });
    return { dr: dr, cr: cr };
  }

  function update() {
    var s = sums(null);
    out.debit.textContent = formatMinor(s.dr, true);
    out.credit.textContent = formatMinor(s.cr, true);
    var d = s.dr - s.cr;
    out.diff.classList.remove("ok", "bad");
    if (d === 0n) {
      out.diff.textContent = s.dr === 0n ? "" : text("balanced");
      if (s.dr !== 0n) { out.diff.classList.add("ok"); }
    } else {
      var key = d > 0n ? "debit-more" : "credit-more";
      out.diff.textContent = text(key).replace("{amount}", formatMinor(d > 0n ? d : -d, true));
      out.diff.classList.add("bad");
    }
  }

  function renumber() {
    rows().forEach(function (tr, i) {
      var cell = tr.querySelector(".line-no");
      if (cell) { cell.textContent = String(i + 1); }
    });
  }

  function addRow() {
    var tr = template.content.firstElementChild.cloneNode(true);
    body.appendChild(tr);
    renumber();
    return tr;
  }

  /* Fields Enter and Tab move through, in order. */
  function fields() {
    return Array.prototype.slice.call(
      form.querySelectorAll("input:not([type=hidden]):not([type=file]), select")
    ).filter(function (el) { return !el.disabled && el.tabIndex !== -1 && el.offsetParent !== null; });
  }

  function isLastLineField(el) {
    var all = rows();
    var last = all[all.length - 1];
    if (!last || !last.contains(el)) { return false; }
    var inRow = fields().filter(function (f) { return last.contains(f); });
    return inRow[inRow.length - 1] === el;
  }

  /* --- account lookup -------------------------------------------------------------------- */
  var accounts = null; // code → label
  var labels = {};
  var url = form.getAttribute("data-accounts-url");
  if (url && window.fetch) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        accounts = {};
        list.forEach(function (a) { accounts[a.code] = a.label; labels[a.label] = a.code; });
        body.querySelectorAll("input.account").forEach(function (el) { if (el.value) { resolve(el); } });
        form.setAttribute("data-accounts-loaded", "1");
      })
      .catch(function () { accounts = null; });
  }

  function resolve(input) {
    if (!accounts) { return; }
    var v = input.value.trim().replace(/\s+/g, " ");
    var ok = true;
    if (v === "" || labels[v]) {
      ok = true;
    } else if (accounts[v.split(" ")[0]]) {
      input.value = accounts[v.split(" ")[0]];
    } else {
      var hits = Object.keys(labels).filter(function (l) { return l.indexOf(v) !== -1; });
      if (hits.length === 1) { input.value = hits[0]; } else { ok = false; }
    }
    input.classList.toggle("invalid", !ok);
    if (ok) { input.removeAttribute("aria-invalid"); input.removeAttribute("title"); }
    else { input.setAttribute("aria-invalid", "true"); input.title = text("unknown-account"); }
  }

  /* --- events ---------------------------------------------------------------------------- */
  form.addEventListener("input", function (ev) {
    if (ev.target.classList.contains("amount")) { update(); }
  });
  form.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.classList.contains("account")) { resolve(el); }
    if (el.classList.contains("amount")) {
      var v = parseMinor(el.value); // show what was understood: "1000" → "1,000.00"
      if (v !== null && v !== undefined) { el.value = formatMinor(v, true); }
    }
  });

  form.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.classList.contains("add-line")) {
      ev.preventDefault();
      var tr = addRow();
      tr.querySelector("input").focus();
    } else if (t.classList.contains("remove-line")) {
      ev.preventDefault();
      var row = t.closest("tr");
      if (rows().length > 2) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      }
      renumber();
      update();
    }
  });

  form.addEventListener("keydown", function (ev) {
    var el = ev.target;
    var tag = el.tagName;
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      if (el.classList.contains("account")) { resolve(el); }
      var save = form.querySelector("button.save");
      if (form.requestSubmit) { form.requestSubmit(save); } else { save.click(); }
      return;
    }
    if (ev.key === "Enter" && (tag === "INPUT" || tag === "SELECT") && el.type !== "file" && !ev.isComposing) {
      ev.preventDefault();
      if (el.classList.contains("account")) { resolve(el); }
      if (isLastLineField(el)) { addRow(); }
      var list = fields();
      var next = list[list.indexOf(el) + 1];
      if (next) { next.focus(); if (next.select) { next.select(); } }
      return;
    }
    if (ev.key === "Tab" && !ev.shiftKey && isLastLineField(el)) {
      addRow(); // the browser's own Tab then moves into the new line
      return;
    }
    if (ev.key === "=" && el.classList.contains("amount") && el.value.trim() === "") {
      ev.preventDefault();
      var s = sums(el);
      var need = el.classList.contains("debit") ? s.cr - s.dr : s.dr - s.cr;
      if (need > 0n || (allowNegative && need < 0n)) {
        el.value = formatMinor(need, false);
        update();
      }
    }
  });

  update();
})();
