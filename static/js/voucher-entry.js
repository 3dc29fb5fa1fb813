/* Commons Ledger: the voucher entry form (记账凭证录入), quick from the keyboard.
 *
 * - Running debit and credit totals and their difference as you type. Money is exact:
 *   amounts are parsed from the text into integer minor units (fen) as BigInt by string
 *   manipulation, never through floating point.
 * - Enter moves to the next field (Ctrl/Cmd+Enter saves); Tab past the last line adds a line;
 *   "=" in an empty amount cell fills in the amount that balances the voucher.
 * - Account cells accept a code ("1002") or a name and are completed to "code name" from
 *   accounts.json. A name that matches several accounts ("费用") or none keeps Enter in the
 *   cell and lists the choices (↑ ↓ and Enter pick one) with a message saying why.
 * - The difference is green only when every amount is a real amount and the sides balance;
 *   otherwise it names the lines whose amount is not one ("12.345", "1,2", "abc", "１２").
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

  /* "1,234.56" → 123456n; "" → null; not an amount → undefined. Digits are ASCII only
   * (full-width "１２" is refused, as the server does); commas must group by thousands. */
  function parseMinor(raw) {
    var t = String(raw).replace(/[\s¥￥]/g, "");
    if (t === "") { return null; }
    var m = /^(-?)(\d*|\d{1,3}(?:[,，]\d{3})+)(?:\.(\d*))?$/.exec(t);
    if (!m || (m[2] + (m[3] || "")) === "") { return undefined; }
    var frac = m[3] || "";
    if (frac.length > exp) { return undefined; }
    if (m[1] === "-" && !allowNegative) { return undefined; }
    while (frac.length < exp) { frac += "0"; }
    var v = BigInt(m[2].replace(/[,，]/g, "") || "0") * SCALE + BigInt(frac || "0");
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
    var dr = 0n, cr = 0n, badLines = [];
    rows().forEach(function (tr, i) {
      tr.querySelectorAll("input.amount").forEach(function (input) {
        var v = parseMinor(input.value);
        var bad = v === undefined;
        input.classList.toggle("invalid", bad);
        if (bad) {
          input.setAttribute("aria-invalid", "true");
          input.title = text("bad-amount");
          if (badLines.indexOf(i + 1) === -1) { badLines.push(i + 1); }
        } else { input.removeAttribute("aria-invalid"); input.removeAttribute("title"); }
        if (input === except || v === null || v === undefined) { return; }
        if (input.classList.contains("debit")) { dr += v; } else { cr += v; }
      });
    });
    return { dr: dr, cr: cr, badLines: badLines };
  }

  function update() {
    var s = sums(null);
    out.debit.textContent = formatMinor(s.dr, true);
    out.credit.textContent = formatMinor(s.cr, true);
    var d = s.dr - s.cr;
    out.diff.classList.remove("ok", "bad");
    if (s.badLines.length) {
      // Never "balanced" while a line holds something that is not an amount.
      out.diff.textContent = text("bad-lines").replace("{lines}", s.badLines.join(", "));
      out.diff.classList.add("bad");
    } else if (d === 0n) {
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

  /* Tab or Enter past the last line adds one only if that line holds something: from an empty
   * last line they move on to the files and the buttons, so the keyboard can leave the table. */
  function lineIsEmpty(tr) {
    return Array.prototype.every.call(tr.querySelectorAll("input"), function (i) {
      return i.value.trim() === "";
    });
  }

  /* --- account lookup -------------------------------------------------------------------- */
  var accounts = null; // code → label
  var labels = {};     // label → code
  var names = {};      // name → [labels]
  var url = form.getAttribute("data-accounts-url");
  if (url && window.fetch) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        accounts = {};
        list.forEach(function (a) {
          accounts[a.code] = a.label;
          labels[a.label] = a.code;
          (names[a.name] = names[a.name] || []).push(a.label);
        });
        body.querySelectorAll("input.account").forEach(function (el) { if (el.value) { resolve(el, true); } });
        form.setAttribute("data-accounts-loaded", "1");
      })
      .catch(function () { accounts = null; });
  }

  /* The labels a typed text may mean: a code, a whole label or name, else every label that
   * contains the text. */
  function candidates(v) {
    if (v === "" || labels[v]) { return [v]; }
    var code = v.split(" ")[0];
    if (accounts[code]) { return [accounts[code]]; }
    if (names[v] && names[v].length === 1) { return names[v]; }
    return Object.keys(labels).filter(function (l) { return l.indexOf(v) !== -1; }).sort();
  }

  var MAX_CHOICES = 30;
  var uid = 0;

  function closeChoices(input) {
    var cell = input.closest("td") || input.parentNode;
    var box = cell.querySelector(".account-choices");
    var msg = cell.querySelector(".account-msg");
    if (box) { box.remove(); }
    if (msg) { msg.remove(); }
    input.removeAttribute("aria-activedescendant");
    input.setAttribute("aria-expanded", "false");
    if (input.hasAttribute("data-list")) {
      input.setAttribute("list", input.getAttribute("data-list"));
      input.removeAttribute("data-list");
    }
  }

  function showChoices(input, v, hits) {
    closeChoices(input);
    var cell = input.closest("td") || input.parentNode;
    var msg = document.createElement("div");
    msg.className = "field-error account-msg";
    msg.setAttribute("role", "alert");
    msg.id = "account-msg-" + (++uid);
    if (hits.length) {
      msg.textContent = text("ambiguous-account").replace("{text}", v).replace("{n}", String(hits.length));
    } else {
      msg.textContent = text("unknown-account");
    }
    input.setAttribute("aria-describedby", msg.id);
    cell.appendChild(msg);
    if (hits.length) {
      // The browser's own suggestion list would cover ours and take the arrow keys.
      if (input.hasAttribute("list")) {
        input.setAttribute("data-list", input.getAttribute("list"));
        input.removeAttribute("list");
      }
      var box = document.createElement("ul");
      box.className = "account-choices";
      box.id = "account-choices-" + uid;
      box.setAttribute("role", "listbox");
      box.setAttribute("aria-label", text("choose-account"));
      hits.slice(0, MAX_CHOICES).forEach(function (label, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = box.id + "-" + i;
        li.textContent = label;
        li.setAttribute("aria-selected", "false"); // nothing taken until the arrows pick one
        box.appendChild(li);
      });
      if (hits.length > MAX_CHOICES) {
        var more = document.createElement("li");
        more.className = "more muted";
        more.textContent = "…";
        box.appendChild(more);
      }
      cell.appendChild(box);
      input.setAttribute("aria-controls", box.id);
      input.setAttribute("aria-expanded", "true");
    }
  }

  function moveChoice(input, step) {
    var box = (input.closest("td") || input.parentNode).querySelector(".account-choices");
    if (!box) { return false; }
    var opts = Array.prototype.slice.call(box.querySelectorAll("[role=option]"));
    var at = opts.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    var next = Math.max(0, Math.min(opts.length - 1, at + step));
    opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === next ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", opts[next].id);
    opts[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  function pickedChoice(input) {
    var box = (input.closest("td") || input.parentNode).querySelector(".account-choices");
    var opt = box && box.querySelector("[role=option][aria-selected=true]");
    return opt ? opt.textContent : null;
  }

  /* Complete the cell to one account's "code name"; true when it holds one (or nothing). */
  function resolve(input, quiet) {
    if (!accounts) { return true; }
    var v = input.value.trim().replace(/\s+/g, " ");
    var hits = candidates(v);
    var ok = hits.length === 1;
    if (ok) {
      input.value = hits[0];
      closeChoices(input);
      input.removeAttribute("aria-describedby");
    } else if (!quiet) {
      showChoices(input, v, hits);
    }
    input.classList.toggle("invalid", !ok);
    if (ok) { input.removeAttribute("aria-invalid"); input.removeAttribute("title"); }
    else {
      input.setAttribute("aria-invalid", "true");
      input.title = hits.length ? text("ambiguous-account").replace("{text}", v).replace("{n}", String(hits.length))
                                : text("unknown-account");
    }
    return ok;
  }

  /* --- events ---------------------------------------------------------------------------- */
  function choicesOpen(input) {
    return input.getAttribute("aria-expanded") === "true";
  }

  function pick(input, label) {
    input.value = label;
    return resolve(input);
  }

  function moveOn(el) {
    var last = rows()[rows().length - 1];
    if (isLastLineField(el) && !lineIsEmpty(last)) { addRow(); }
    var list = fields();
    var next = list[list.indexOf(el) + 1];
    if (next) { next.focus(); if (next.select) { next.select(); } }
    else { form.querySelector("button.save").focus(); }
  }

  form.addEventListener("input", function (ev) {
    var el = ev.target;
    if (el.classList.contains("amount")) { update(); }
    if (el.classList.contains("account") && choicesOpen(el)) {
      // Typing more narrows the open list; Enter then takes the highlighted account.
      var v = el.value.trim().replace(/\s+/g, " ");
      var hits = v ? candidates(v) : [];
      if (hits.length > 1) { showChoices(el, v, hits); } else { closeChoices(el); }
    }
  });
  form.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.classList.contains("account")) { resolve(el); }
    if (el.classList.contains("amount")) {
      var v = parseMinor(el.value); // show what was understood: "1000" → "1,000.00"
      if (v !== null && v !== undefined) { el.value = formatMinor(v, true); }
    }
  });

  // A choice is taken on mousedown so the cell keeps the focus (no blur, no "change" first).
  form.addEventListener("mousedown", function (ev) {
    var opt = ev.target.closest && ev.target.closest(".account-choices [role=option]");
    if (!opt) { return; }
    ev.preventDefault();
    var input = opt.closest("td").querySelector("input.account");
    if (pick(input, opt.textContent)) { moveOn(input); }
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

  function submitWith(value) {
    var button = form.querySelector("button[name=do][value=" + value + "]:not(.default-submit)");
    if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
  }

  form.addEventListener("keydown", function (ev) {
    var el = ev.target;
    var tag = el.tagName;
    var isAccount = el.classList.contains("account");
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      if (isAccount) { resolve(el, true); }
      submitWith(ev.shiftKey ? "submit" : "save"); // Ctrl+Shift+Enter: save and submit
      return;
    }
    if (isAccount && choicesOpen(el)) {
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        moveChoice(el, ev.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (ev.key === "Escape") {
        ev.preventDefault();
        closeChoices(el);
        return;
      }
    }
    if (ev.key === "Enter" && (tag === "INPUT" || tag === "SELECT") && el.type !== "file" && !ev.isComposing) {
      ev.preventDefault();
      if (isAccount) {
        var chosen = choicesOpen(el) ? pickedChoice(el) : null;
        // An account name that means several accounts, or none, keeps the cursor here.
        if (!(chosen ? pick(el, chosen) : resolve(el))) { return; }
      }
      moveOn(el);
      return;
    }
    if (ev.key === "Tab" && !ev.shiftKey && isLastLineField(el) && !lineIsEmpty(el.closest("tr"))) {
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

  // A form sent back with errors: the cursor goes to the first field the server complained
  // about rather than to the date.
  var firstError = form.querySelector("td .field-error, label .field-error");
  var holder = firstError && firstError.closest("td, label");
  var wrong = holder && holder.querySelector("input:not([type=hidden]), select");
  if (wrong) { wrong.focus(); if (wrong.select) { wrong.select(); } }
})();
