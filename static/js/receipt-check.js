// SPDX-License-Identifier: AGPL-3.0-or-later
// "Check my receipt" (templates/transparency/receipt_check.html): a resident pastes, uploads or
// scans their receipt, and this page checks it in the browser with verify.js (the same checks as
// the command-line verifier). A printed receipt's QR code opens this page with the receipt in the
// URL's fragment, #r=<base64url of the raw-DEFLATE compressed JSON>: browsers never send a
// fragment to the server. For a receipt of this website the organisation's key is fetched from
// its public page (its fingerprint is shown, to compare with the one posted at the community
// office) and the published report that holds the payment is looked up.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const V = window.CommonsVerify;

  function b64urlBytes(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  async function inflate(bytes) {
    if (typeof DecompressionStream === "undefined") throw new Error("old-browser");
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new TextDecoder("utf-8", { fatal: true }).decode(await new Response(stream).arrayBuffer());
  }

  // A receipt from what the resident gave: JSON text, or a link / QR text carrying #r=….
  async function receiptText(input) {
    const text = input.trim();
    const m = /(?:^|[#&])r=([A-Za-z0-9_-]+)/.exec(text.includes("#") ? text.slice(text.indexOf("#")) : text);
    if (!text.startsWith("{") && m) return inflate(b64urlBytes(m[1]));
    return text;
  }

  function setup() {
    const form = $("receipt-form");
    if (!form || !V) return;
    const t = $("receipt-i18n").dataset;
    const vi = $("verify-i18n").dataset;
    const publicHost = form.dataset.publicHost || "";
    const out = $("receipt-output");
    const summary = $("receipt-summary");
    const facts = $("receipt-facts");
    const notes = $("receipt-notes");
    const list = $("receipt-checks");
    const area = $("receipt-text");
    const fill = (tpl, params) => tpl.replace(/%\((\w+)\)s/g, (_a, k) => (params[k] === undefined ? "" : String(params[k])));
    const camel = (id) => id.split(/[-._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
    const say = (m, c = null) => V.say(m, c, vi);
    const labelOf = (check) => vi["check" + camel(check)] || check;
    const statusWord = { PASS: vi.pass, FAIL: vi.fail, WARN: vi.warn, SKIP: vi.skip };

    async function fetchJson(url) {
      const resp = await fetch(url, { credentials: "omit" });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      return resp.json();
    }

    function show(kind, text) {
      summary.className = `verify-summary ${kind}`;
      summary.textContent = text;
      out.hidden = false;
    }

    function para(text) {
      return Object.assign(document.createElement("p"), { textContent: text });
    }

    async function check(input) {
      document.body.dataset.verifyState = "running";
      list.replaceChildren();
      facts.replaceChildren();
      notes.replaceChildren();
      show("muted", vi.running);
      let doc;
      try {
        doc = V.parseJsonText(await receiptText(input), "receipt");
      } catch (e) {
        show("bad", e && e.message === "old-browser" ? t.oldBrowser : t.unreadable);
        if (e && e.msg) {
          // What is wrong with the text, in the page's language (the CLI's message).
          const c = { check: "input", status: "FAIL", msg: e.msg };
          const li = Object.assign(document.createElement("li"), { className: "check check-fail" });
          li.dataset.check = c.check;
          li.dataset.status = c.status;
          li.append(Object.assign(document.createElement("span"), { className: "check-status", textContent: statusWord.FAIL }), ` ${labelOf(c.check)}: ${say(c.msg, c)}`);
          list.append(li);
        }
        document.body.dataset.verifyState = "done";
        return;
      }
      const origin = V.claimedOrigin(doc);
      const book = V.bookOfOrigin(origin);
      const ours = book !== null && publicHost && origin === `${publicHost}/commons-ledger/${book}`;
      let keyText = "";
      if (ours) {
        try {
          const info = await fetchJson(`/api/v1/public/books/${book}/checkpoints`);
          if (info.public_key && info.public_key.name === origin) {
            const k = await V.verifierKey(info.public_key.name, info.public_key.ed25519);
            keyText = k.text;
            notes.append(para(fill(vi.keyFetched, { fp: k.fingerprint })));
          }
        } catch (e) {
          /* no key here: the key check says what to do */
        }
      }
      const report = await V.verifyDocuments({ receipt: doc }, keyText);
      // What the resident paid: their own lines of the record (debits, else credits).
      const record = doc && typeof doc.record === "object" && doc.record ? doc.record : {};
      const lines = Array.isArray(record.lines) ? record.lines : [];
      const mine = (Array.isArray(doc.private) ? doc.private : []).map((p) => lines[p.line - 1]).filter(Boolean);
      let amount = "";
      try {
        const debit = mine.reduce((s, l) => s + BigInt(l.debit || 0), 0n);
        amount = V.yuan(debit || mine.reduce((s, l) => s + BigInt(l.credit || 0), 0n));
      } catch (e) {
        amount = "";
      }
      const params = { amount, number: record.number || "", date: record.date || "", index: doc.index, origin: origin || "" };
      const verdict = report.verdict;
      if (verdict === "verified") show("ok", fill(t.verified, params));
      else if (verdict === "partly_checked") show("warn", fill(t.partly, params));
      else show("bad", t.failed);
      summary.dataset.verdict = verdict;
      // In which published report the payment counts.
      if (ours && verdict !== "not_verified") {
        try {
          const reports = await fetchJson(`/api/v1/public/books/${book}/reports`);
          const r = Array.isArray(reports)
            ? reports.find((x) => x.period_start <= record.date && record.date <= x.period_end && x.checkpoint_size > doc.index)
            : null;
          const p = document.createElement("p");
          if (r) {
            const a = Object.assign(document.createElement("a"), { href: `/public/r/${r.id}`, textContent: `${r.period_start} – ${r.period_end}` });
            a.id = "receipt-report";
            p.append(t.inReport, " ", a);
          } else {
            p.textContent = fill(t.notYetReported, params);
          }
          facts.append(p);
        } catch (e) {
          /* the list of reports is not available: the checks stand on their own */
        }
      }
      for (const c of report.inputErrors.map((m) => ({ check: "input", status: "FAIL", msg: m })).concat(report.checks)) {
        const li = document.createElement("li");
        li.className = `check check-${c.status.toLowerCase()}`;
        li.dataset.check = c.check;
        li.dataset.status = c.status;
        const badge = Object.assign(document.createElement("span"), { className: "check-status", textContent: statusWord[c.status] || c.status });
        li.append(badge, ` ${labelOf(c.check)}: ${say(c.msg, c)}`);
        if (c.actionMsg) li.append(Object.assign(document.createElement("strong"), { className: "verify-action", textContent: `${vi.todo} ${say(c.actionMsg)}` }));
        list.append(li);
      }
      list.closest("details").open = verdict !== "verified";
      out.scrollIntoView({ block: "start" });
      document.body.dataset.verifyState = "done";
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const file = $("receipt-file").files[0];
      if (file && file.type.startsWith("image/")) {
        await scanImage(file);
        return;
      }
      await check(file ? await file.text() : area.value);
    });

    // QR codes: the browser's own BarcodeDetector (Chromium on Android, for example); where it
    // is missing, the scan button stays hidden and the resident pastes or uploads instead.
    const detector = "BarcodeDetector" in window ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;

    async function found(value) {
      area.value = value;
      await check(value);
    }

    async function scanImage(file) {
      if (!detector) {
        show("bad", t.noScanner);
        return;
      }
      try {
        const codes = await detector.detect(await createImageBitmap(file));
        if (codes.length) await found(codes[0].rawValue);
        else show("bad", t.noCode);
      } catch (e) {
        show("bad", t.noCode);
      }
    }

    const scan = $("scan-button");
    const video = $("scan-video");
    if (detector && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      scan.hidden = false;
      scan.addEventListener("click", async () => {
        let stream;
        try {
          stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        } catch (e) {
          show("bad", t.noCamera);
          return;
        }
        video.srcObject = stream;
        video.hidden = false;
        await video.play();
        const stop = () => {
          stream.getTracks().forEach((tr) => tr.stop());
          video.hidden = true;
        };
        const tick = async () => {
          if (video.hidden) return;
          try {
            const codes = await detector.detect(video);
            if (codes.length) {
              stop();
              await found(codes[0].rawValue);
              return;
            }
          } catch (e) {
            /* a frame that could not be read: try the next */
          }
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
    }

    // Opened from a receipt's QR code: the receipt is in the fragment, never sent to the server.
    if (/[#&]r=/.test(location.hash)) {
      check(location.hash);
    }
    document.body.dataset.verifyState = "ready";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
