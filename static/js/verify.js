// SPDX-License-Identifier: AGPL-3.0-or-later
// In-browser verifier for Commons Ledger disclosure bundles and receipts (transparency/FORMAT.md).
//
// The same checks, with the same names, as `python -m transparency.verify`: the checkpoint's
// Ed25519 signature (WebCrypto; ed25519.js only where the browser lacks it), the log root
// recomputed from the records (RFC 8785 canonical JSON, WebCrypto SHA-256, RFC 9162 trees),
// carried records' inclusion proofs, the consistency proof from the previous report, the
// balances and every statement line recomputed from the records, and a receipt's inclusion and
// commitment. Everything runs on the bytes the user chose; nothing is sent anywhere, and nothing
// from our server is trusted but this code and the key the user types in.
//
// Public API (also used by the browser tests): window.CommonsVerify.verifyDocuments(docs, options)
// → Promise<{checks: [{check, status, message}], exitCode}>, where docs = {bundle, previous, receipt}.
(function (global) {
  "use strict";

  const DISCLOSURE_FORMAT = "commons-ledger/disclosure/1";
  const RECEIPT_FORMAT = "commons-ledger/receipt/1";
  const MAX_INPUT_BYTES = 512 * 1024 * 1024;
  const MAX_NOTE_CHARS = 64 * 1024;
  const MAX_SAFE = Number.MAX_SAFE_INTEGER;
  const HASH_SIZE = 32;
  const PASS = "PASS", FAIL = "FAIL", WARN = "WARN", SKIP = "SKIP";
  const options = { forceEd25519Fallback: false };

  // ================================================================= small tools

  // A message: English (as the CLI prints it) plus an id and parameters, which the page shows
  // in its own language (data-msg-<id> templates on the page; English when there is none).
  class Msg {
    constructor(id, params, en) {
      this.id = id;
      this.params = params;
      this.en = en;
    }
    toString() {
      return this.en;
    }
  }
  const M = (id, params, en) => new Msg(id, params, en);
  // Items listed with commas (the CLI's tuples): "a, b" in English, "a、b" in Chinese.
  class Seq {
    constructor(items) {
      this.items = items;
    }
    toString() {
      return this.items.join(", ");
    }
  }
  const doc = (what) => M(`doc_${what}`, {}, what); // "bundle", "receipt", "previous", "file"

  // fen → "¥1,234.56" (exact, BigInt), another unit → "1,234 pt"; as the CLI's format_amount.
  function yuan(minor, unit = "CNY") {
    const v = BigInt(minor);
    const neg = v < 0n, a = neg ? -v : v;
    const group = (x) => x.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    if (unit !== "CNY") return `${neg ? "-" : ""}${group(a)} ${unit}`;
    return `${neg ? "-" : ""}¥${group(a / 100n)}.${(a % 100n).toString().padStart(2, "0")}`;
  }

  // The log's origin: <public host>/commons-ledger/<book id> (FORMAT.md §2).
  const ORIGIN_RE = /^([a-z0-9.\-[\]:]+(?:\/[a-z0-9._~-]+)*)\/commons-ledger\/([1-9][0-9]{0,18})$/;
  const bookOfOrigin = (origin) => {
    const m = isStr(origin) ? ORIGIN_RE.exec(origin) : null;
    return m ? Number(m[2]) : null;
  };

  class Outcome extends Error {
    constructor(status, message, action = "") {
      super(String(message));
      this.status = status;
      this.msg = message; // a string or a Msg
      this.action = action; // a string or a Msg: what completes this check
    }
  }
  const fail = (m) => new Outcome(FAIL, m);
  const skip = (m, action = "") => new Outcome(SKIP, m, action);
  const warn = (m, action = "") => new Outcome(WARN, m, action);

  // A value of the wrong shape; ``code`` and ``params`` as tlog.bundle_math.ShapeError's, so
  // the page says what is wrong with the CLI's message (shape_<code>) in its own language.
  class ShapeError extends Error {
    constructor(path, detail, code = "shape", params = {}) {
      super(`${path}: ${detail}`);
      this.path = path;
      this.detail = detail;
      this.code = code;
      this.params = params;
    }
  }
  // A signed note, checkpoint or key that is malformed or does not verify (tlog.notes.NoteError).
  class NoteError extends Error {
    constructor(code, detail, params = {}) {
      super(detail);
      this.code = code;
      this.detail = detail;
      this.params = params;
    }
  }
  class CanonicalError extends Error {}
  // A file that cannot be read; ``msg``: what the page shows.
  class InputError extends Error {
    constructor(m) {
      super(String(m));
      this.msg = m;
    }
  }

  // A number whose JSON source is not an integer (1.0, 1e3): kept apart so it fails type
  // checks, as it does in Python where it parses as a float.
  class NonInteger {
    constructor(source) {
      this.source = source;
    }
  }

  const te = new TextEncoder();
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof NonInteger);
  const isInt = (v) => typeof v === "number" && Number.isSafeInteger(v);
  const isStr = (v) => typeof v === "string";

  function jsonType(v) {
    if (v === null) return "null";
    if (Array.isArray(v)) return "array";
    if (v instanceof NonInteger) return "number";
    if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
    if (typeof v === "boolean") return "boolean";
    if (typeof v === "string") return "string";
    return "object";
  }

  function short(v) {
    let t;
    try {
      t = v instanceof NonInteger ? v.source : JSON.stringify(v);
    } catch (e) {
      t = String(v);
    }
    if (t === undefined) t = String(v);
    return t.length <= 60 ? t : t.slice(0, 57) + "...";
  }

  function require(obj, key, types, path) {
    if (!isObj(obj)) throw new ShapeError(path, `expected an object, got ${jsonType(obj)}`, "not_object", { got: jsonType(obj) });
    if (!Object.prototype.hasOwnProperty.call(obj, key)) throw new ShapeError(`${path}.${key}`, "missing", "missing");
    const v = obj[key];
    const ok = types.some((t) =>
      t === "object" ? isObj(v) : t === "array" ? Array.isArray(v) : t === "integer" ? isInt(v)
        : t === "string" ? isStr(v) : t === "null" ? v === null : false);
    if (!ok) throw new ShapeError(`${path}.${key}`, `expected ${types.join(" or ")}, got ${jsonType(v)}`, "wrong_type", { expected: types, got: jsonType(v) });
    return v;
  }

  function concat(...parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

  function eqBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function b64decode(s, what) {
    if (!isStr(s) || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
      throw new NoteError("not_base64", `${what} is not valid base64`, { what });
    }
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function b64encode(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // Many digests at once: WebCrypto runs them in parallel, awaiting one by one would not.
  async function sha256All(list) {
    const out = new Array(list.length);
    const CHUNK = 16384;
    for (let i = 0; i < list.length; i += CHUNK) {
      const part = await Promise.all(list.slice(i, i + CHUNK).map((b) => crypto.subtle.digest("SHA-256", b)));
      for (let j = 0; j < part.length; j++) out[i + j] = new Uint8Array(part[j]);
    }
    return out;
  }

  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

  // Python compares strings by code point; UTF-16 order differs only above U+FFFF.
  function cmpCodePoints(a, b) {
    const x = Array.from(a, (c) => c.codePointAt(0));
    const y = Array.from(b, (c) => c.codePointAt(0));
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return x.length - y.length;
  }

  // ================================================================= RFC 8785 (JCS)

  // Canonical JSON of the subset records use. Object keys sort by UTF-16 code units, which is
  // what JavaScript's default sort compares; JSON.stringify escapes strings as RFC 8785 asks.
  // `known` (optional) maps objects already canonicalised (checked records) to their text.
  function jcs(value, known = null) {
    if (known !== null && known.has(value)) return known.get(value);
    if (value === null) return "null";
    if (value === true) return "true";
    if (value === false) return "false";
    if (value instanceof NonInteger) throw new CanonicalError("floats are not used in records");
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new CanonicalError(`number ${value} is not an integer in the JSON safe range`);
      return String(value);
    }
    if (typeof value === "string") {
      if (LONE_SURROGATE.test(value)) throw new CanonicalError("string contains a lone surrogate (not Unicode text)");
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map((v) => jcs(v, known)).join(",") + "]";
    if (typeof value === "object") {
      const keys = Object.keys(value).sort();
      return "{" + keys.map((k) => {
        if (LONE_SURROGATE.test(k)) throw new CanonicalError("key contains a lone surrogate");
        return JSON.stringify(k) + ":" + jcs(value[k], known);
      }).join(",") + "}";
    }
    throw new CanonicalError(`${typeof value} is not a JSON value`);
  }

  const jcsBytes = (v) => te.encode(jcs(v));

  // For a record checkRecord accepted: its keys are exactly the version-1 ones and its values
  // strings, safe integers, null or lines of the same kind, so JSON.stringify with every key
  // listed in sorted order prints the RFC 8785 form, much faster than jcs(). JSON.stringify
  // escapes lone surrogates instead of refusing them, so refuse them first, as jcs() does.
  // Also the keys of the lines and of the private entries: an array replacer lists every key
  // JSON.stringify writes, at any depth, in this order.
  const SORTED_RECORD_KEYS = ["account", "book", "commitment", "credit", "date", "debit", "fund", "index",
    "kind", "line", "lines", "number", "private", "reverses", "summary", "unit", "v"];
  const wellFormed = String.prototype.isWellFormed
    ? (t) => t.isWellFormed() : (t) => !LONE_SURROGATE.test(t);

  function checkedRecordText(rec) {
    let ok = wellFormed(rec.number) && wellFormed(rec.summary);
    for (const ln of rec.lines) ok = ok && wellFormed(ln.account) && wellFormed(ln.unit) && (ln.fund === null || wellFormed(ln.fund));
    if (!ok) throw new CanonicalError("string contains a lone surrogate (not Unicode text)");
    return JSON.stringify(rec, SORTED_RECORD_KEYS);
  }


  // ================================================================= RFC 9162 Merkle trees

  const leafHashOf = (data) => sha256(concat(Uint8Array.of(0), data));
  const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

  class VerificationError extends Error {
    constructor(check, detail) {
      super(`${detail} [${check}]`);
      this.check = check;
      this.detail = detail;
    }
  }

  function bitLength(n) {
    let b = 0n;
    let v = n;
    while (v > 0n) {
      b++;
      v >>= 1n;
    }
    return b;
  }
  function popcount(n) {
    let c = 0n;
    let v = BigInt(n);
    while (v > 0n) {
      c += v & 1n;
      v >>= 1n;
    }
    return Number(c);
  }

  function expectedInclusionLen(index, size) {
    const inner = bitLength(index ^ (size - 1n));
    const border = popcount(index >> inner);
    return Number(inner) + border;
  }

  function expectedConsistencyLen(oldSize, newSize) {
    let shift = 0n;
    while (((oldSize >> shift) & 1n) === 0n) shift++;
    let len = expectedInclusionLen(oldSize - 1n, newSize) - Number(shift);
    if (oldSize !== 1n << shift) len += 1;
    return len;
  }

  function checkHashes(proof) {
    for (const h of proof) if (h.length !== HASH_SIZE) throw new VerificationError("hash_length", "proof hash is not 32 bytes");
  }

  // RFC 9162 §2.1.3.2, step by step (BigInt: JavaScript's bit operators are 32-bit).
  async function verifyInclusion(leaf, index, treeSize, proof, root) {
    checkHashes(proof);
    const idx = BigInt(index), size = BigInt(treeSize);
    if (idx >= size) throw new VerificationError("index_out_of_range", `index ${index} >= tree_size ${treeSize}`);
    const expected = expectedInclusionLen(idx, size);
    if (proof.length !== expected) {
      throw new VerificationError("proof_length", `inclusion proof for index ${index} in size ${treeSize} needs ${expected} hashes, got ${proof.length}`);
    }
    let fn = idx, sn = size - 1n, r = leaf;
    for (const p of proof) {
      if (sn === 0n) throw new VerificationError("proof_too_long", "inclusion proof has more hashes than the tree has levels");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new VerificationError("proof_too_short", "inclusion proof ended before reaching the root");
    if (!eqBytes(r, root)) throw new VerificationError("root_mismatch", "root computed from the inclusion proof does not match root");
  }

  // RFC 9162 §2.1.4.2, step by step, with the same strictness as tlog/merkle.py.
  async function verifyConsistency(oldSizeN, newSizeN, oldRoot, newRoot, proofIn) {
    checkHashes(proofIn);
    const oldSize = BigInt(oldSizeN), newSize = BigInt(newSizeN);
    if (oldSize === 0n) throw new VerificationError("old_size_zero", "a consistency proof from the empty tree is not accepted (old_size must be > 0)");
    if (oldSize > newSize) throw new VerificationError("old_size_gt_new_size", `old_size ${oldSizeN} > new_size ${newSizeN}`);
    if (oldSize === newSize) {
      if (proofIn.length) throw new VerificationError("equal_sizes_nonempty_proof", `sizes are equal but the proof has ${proofIn.length} hashes`);
      if (!eqBytes(oldRoot, newRoot)) throw new VerificationError("equal_sizes_root_mismatch", "sizes are equal but the roots differ");
      return;
    }
    if (!proofIn.length) throw new VerificationError("proof_empty", "consistency proof is empty but old_size < new_size");
    const expected = expectedConsistencyLen(oldSize, newSize);
    if (proofIn.length !== expected) {
      throw new VerificationError("proof_length", `consistency proof from ${oldSizeN} to ${newSizeN} needs ${expected} hashes, got ${proofIn.length}`);
    }
    let path = proofIn;
    if ((oldSize & (oldSize - 1n)) === 0n) path = [oldRoot, ...proofIn];
    let fn = oldSize - 1n, sn = newSize - 1n;
    while ((fn & 1n) === 1n) {
      fn >>= 1n;
      sn >>= 1n;
    }
    let fr = path[0], sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0n) throw new VerificationError("proof_too_long", "consistency proof has more hashes than the tree has levels");
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new VerificationError("proof_too_short", "consistency proof ended before reaching the new root");
    if (!eqBytes(fr, oldRoot)) throw new VerificationError("old_root_mismatch", "old root computed from the consistency proof does not match");
    if (!eqBytes(sr, newRoot)) throw new VerificationError("new_root_mismatch", "new root computed from the consistency proof does not match");
  }

  // The complete subtrees (level, index) of the first `size` leaves, largest first.
  function compactRangeIds(size) {
    const ids = [];
    let start = 0;
    for (let level = 53; level >= 0; level--) {
      const w = 2 ** level;
      if (Math.floor(size / w) % 2 === 1) {
        ids.push([level, start / w]);
        start += w;
      }
    }
    return ids;
  }

  async function foldCompactRange(hashes) {
    if (!hashes.length) return sha256(new Uint8Array(0));
    let acc = hashes[hashes.length - 1];
    for (let i = hashes.length - 2; i >= 0; i--) acc = await nodeHash(hashes[i], acc);
    return acc;
  }

  // Root of the tree of `first + leaves.length` leaves from the compact range of the first
  // `first` and the new leaf hashes: complete subtrees level by level, each level's hashes in
  // one parallel batch, then the new compact range folded right to left.
  async function foldLog(compact, first, leaves) {
    if (compact.length !== popcount(first)) {
      throw new Error(`compact range for ${first} leaves has ${popcount(first)} hashes, got ${compact.length}`);
    }
    const size = first + leaves.length;
    const levels = [new Map()];
    compactRangeIds(first).forEach(([lv, ix], i) => {
      while (levels.length <= lv) levels.push(new Map());
      levels[lv].set(ix, compact[i]);
    });
    leaves.forEach((h, i) => levels[0].set(first + i, h));
    for (let lv = 1; 2 ** lv <= size; lv++) {
      while (levels.length <= lv) levels.push(new Map());
      const below = levels[lv - 1], here = levels[lv];
      const todo = [];
      const lo = Math.floor(first / 2 ** lv), hi = Math.floor(size / 2 ** lv);
      for (let ix = lo; ix < hi; ix++) {
        if (!here.has(ix) && below.has(2 * ix) && below.has(2 * ix + 1)) todo.push(ix);
      }
      const hashes = await sha256All(todo.map((ix) => concat(Uint8Array.of(1), below.get(2 * ix), below.get(2 * ix + 1))));
      todo.forEach((ix, i) => here.set(ix, hashes[i]));
    }
    const range = compactRangeIds(size).map(([lv, ix]) => {
      const h = levels[lv] && levels[lv].get(ix);
      if (!h) throw new Error(`subtree (${lv}, ${ix}) could not be computed`);
      return h;
    });
    return { size, root: await foldCompactRange(range) };
  }

  // ================================================================= C2SP signed notes

  const CONTROL = /[\x00-\x09\x0b-\x1f]/;

  function checkText(text) {
    if (!isStr(text) || !text) throw new NoteError("empty", "note text is empty");
    if (!text.endsWith("\n")) throw new NoteError("newline", "note text must end with a newline");
    if (CONTROL.test(text)) throw new NoteError("control", "note contains control characters other than newline");
    if (LONE_SURROGATE.test(text)) throw new NoteError("utf8", "note is not valid UTF-8 text");
  }

  function checkName(name) {
    if (!isStr(name) || !name || /\s/.test(name) || name.includes("+")) throw new NoteError("key_name", `bad key name ${short(name)}: non-empty, no spaces, no '+'`);
  }

  function parseNote(note) {
    if (!isStr(note)) throw new NoteError("not_text", `a signed note is text, got ${jsonType(note)}`, { got: jsonType(note) });
    if (note.length > MAX_NOTE_CHARS) throw new NoteError("too_long", `note is longer than ${MAX_NOTE_CHARS} characters`, { n: MAX_NOTE_CHARS });
    checkText(note);
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new NoteError("no_signatures", "note has no blank line before its signatures");
    const text = note.slice(0, split + 1), block = note.slice(split + 2);
    if (!block) throw new NoteError("no_signatures", "note has no signature lines");
    const lines = block.slice(0, -1).split("\n");
    if (lines.length > 100) throw new NoteError("too_many", "note has more than 100 signatures", { n: 100 });
    const sigs = lines.map((line, n) => {
      if (!line.startsWith("\u2014 ")) throw new NoteError("sig_line", `signature line ${n + 1} does not start with '— '`, { n: n + 1 });
      const rest = line.slice(2);
      const sp = rest.indexOf(" ");
      if (sp < 0 || rest.slice(sp + 1).includes(" ")) throw new NoteError("sig_line", `signature line ${n + 1} is not '— <name> <base64>'`, { n: n + 1 });
      const name = rest.slice(0, sp);
      let blob;
      try {
        checkName(name);
        blob = b64decode(rest.slice(sp + 1), `signature line ${n + 1}`);
      } catch (e) {
        throw new NoteError("sig_line", e.message, { n: n + 1 });
      }
      if (blob.length <= 4) throw new NoteError("sig_line", `signature line ${n + 1} is too short`, { n: n + 1 });
      return { name, keyId: blob.slice(0, 4), signature: blob.slice(4) };
    });
    return { text, signatures: sigs };
  }

  async function keyId(name, raw) {
    return (await sha256(concat(te.encode(name), Uint8Array.of(0x0a, 0x01), raw))).slice(0, 4);
  }

  let webCryptoEd25519 = null; // unknown until first use

  async function ed25519Verify(raw, message, signature) {
    if (!options.forceEd25519Fallback && webCryptoEd25519 !== false) {
      try {
        const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
        webCryptoEd25519 = true;
        return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
      } catch (e) {
        if (webCryptoEd25519 === true) return false; // supported: the key or signature is bad
        webCryptoEd25519 = false;
      }
    }
    if (global.CommonsEd25519) return global.CommonsEd25519.verify(raw, message, signature);
    throw new NoteError("no_ed25519", "this browser cannot check Ed25519 signatures");
  }

  async function verifyNote(note, name, raw) {
    const parsed = parseNote(note);
    const kid = await keyId(name, raw);
    const message = te.encode(parsed.text);
    let found = false;
    for (const sig of parsed.signatures) {
      if (sig.name !== name || !eqBytes(sig.keyId, kid)) continue;
      found = true;
      if (!(await ed25519Verify(raw, message, sig.signature))) {
        throw new NoteError("signature_invalid", `the signature by ${name} does not verify with this key`, { name });
      }
    }
    if (!found) {
      const signers = [...new Set(parsed.signatures.map((s) => s.name))].sort();
      throw new NoteError("signature_missing", `no signature by ${name} with key id ${hex(kid)} (signed by: ${signers.join(", ") || "nobody"})`, { name, signers });
    }
    return parsed.text;
  }

  function parseCheckpoint(text) {
    checkText(text);
    const lines = text.slice(0, -1).split("\n");
    if (lines.length !== 3) throw new NoteError("checkpoint_lines", `a checkpoint has 3 lines, this one has ${lines.length}`, { n: lines.length });
    const [origin, sizeS, rootS] = lines;
    if (!origin || /\s/.test(origin)) throw new NoteError("checkpoint_origin", "checkpoint origin line is empty or has spaces");
    if (!/^(0|[1-9][0-9]{0,19})$/.test(sizeS)) throw new NoteError("checkpoint_size", `checkpoint size ${short(sizeS)} is not a decimal`, { value: short(sizeS) });
    const size = Number(sizeS);
    if (!Number.isSafeInteger(size)) throw new NoteError("checkpoint_size", `checkpoint size ${sizeS} is too large`, { value: short(sizeS) });
    let root;
    try {
      root = b64decode(rootS, "checkpoint root");
    } catch (e) {
      throw new NoteError("checkpoint_root", e.message);
    }
    if (root.length !== 32) throw new NoteError("checkpoint_root", `checkpoint root is ${root.length} bytes, not 32`);
    return { origin, size, root };
  }

  const openCheckpoint = (note) => parseCheckpoint(parseNote(note).text);

  // ================================================================= bundle arithmetic

  const RECORD_KEYS = ["book", "date", "index", "kind", "lines", "number", "private", "reverses", "summary", "v"];
  const LINE_KEYS = ["account", "credit", "debit", "fund", "unit"];
  const PRIVATE_KEYS = ["commitment", "line"];
  const KINDS = new Set(["normal", "reversal", "closing", "opening"]);
  const LINE_KINDS = new Set(["heading", "item", "subtotal", "total"]);

  function parseDate(v, path) {
    if (!isStr(v) || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(v)) throw new ShapeError(path, `expected a YYYY-MM-DD date, got ${short(v)}`, "bad_date", { value: short(v) });
    const [y, m, d] = v.split("-").map(Number);
    const t = new Date(Date.UTC(y, m - 1, d));
    if (y < 1 || t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) {
      throw new ShapeError(path, `${JSON.stringify(v)} is not a calendar date`, "not_calendar_date", { value: `'${v}'` });
    }
    return v; // ISO dates compare correctly as strings
  }

  function sameKeys(obj, keys) {
    const k = Object.keys(obj).sort();
    return k.length === keys.length && k.every((x, i) => x === keys[i]);
  }

  function checkRecord(rec, path) {
    if (!isObj(rec)) throw new ShapeError(path, `a record is an object, got ${jsonType(rec)}`, "record_not_object", { got: jsonType(rec) });
    if (!sameKeys(rec, RECORD_KEYS)) {
      const have = new Set(Object.keys(rec));
      const missing = RECORD_KEYS.filter((k) => !have.has(k));
      const extra = Object.keys(rec).filter((k) => !RECORD_KEYS.includes(k)).sort();
      const parts = [];
      if (missing.length) parts.push(`missing ${missing.join(", ")}`);
      if (extra.length) parts.push(`unexpected ${extra.join(", ")}`);
      throw new ShapeError(path, "record fields: " + parts.join("; "), "record_fields", { missing, extra });
    }
    if (rec.v !== 1) throw new ShapeError(`${path}.v`, `record version ${short(rec.v)} is not 1`, "record_version", { value: short(rec.v) });
    for (const k of ["book", "index"]) {
      if (!isInt(rec[k]) || rec[k] < 0) throw new ShapeError(`${path}.${k}`, `expected a non-negative integer, got ${short(rec[k])}`, "not_index", { value: short(rec[k]) });
    }
    for (const k of ["number", "summary"]) {
      if (!isStr(rec[k])) throw new ShapeError(`${path}.${k}`, `expected a string, got ${jsonType(rec[k])}`, "wrong_type", { expected: ["string"], got: jsonType(rec[k]) });
    }
    const when = parseDate(rec.date, `${path}.date`);
    if (!isStr(rec.kind) || !KINDS.has(rec.kind)) throw new ShapeError(`${path}.kind`, `unknown kind ${short(rec.kind)}`, "unknown_kind", { value: short(rec.kind) });
    if (rec.reverses !== null && (!isInt(rec.reverses) || rec.reverses < 0)) throw new ShapeError(`${path}.reverses`, `expected null or an index, got ${short(rec.reverses)}`, "bad_reverses", { value: short(rec.reverses) });
    if (!Array.isArray(rec.lines)) throw new ShapeError(`${path}.lines`, `expected an array, got ${jsonType(rec.lines)}`, "wrong_type", { expected: ["array"], got: jsonType(rec.lines) });
    checkPrivate(rec.private, rec.lines.length, `${path}.private`);
    const totals = new Map();
    rec.lines.forEach((ln, n) => {
      const lp = `${path}.lines[${n}]`;
      if (!isObj(ln) || !sameKeys(ln, LINE_KEYS)) throw new ShapeError(lp, "a line has exactly account, fund, unit, debit, credit", "line_keys");
      if (!isStr(ln.account) || !ln.account) throw new ShapeError(`${lp}.account`, "expected an account code", "line_account");
      if (ln.fund !== null && !isStr(ln.fund)) throw new ShapeError(`${lp}.fund`, "expected null or a fund code", "line_fund");
      if (!isStr(ln.unit) || !ln.unit) throw new ShapeError(`${lp}.unit`, "expected a unit", "line_unit");
      for (const side of ["debit", "credit"]) {
        if (!isInt(ln[side])) throw new ShapeError(`${lp}.${side}`, `expected an integer amount, got ${short(ln[side])}`, "line_amount", { value: short(ln[side]) });
      }
      totals.set(ln.unit, (totals.get(ln.unit) || 0n) + BigInt(ln.debit) - BigInt(ln.credit));
    });
    const unbalanced = [...totals].filter(([, t]) => t !== 0n).map(([u]) => u).sort();
    if (unbalanced.length) throw new ShapeError(`${path}.lines`, `debits and credits differ in ${unbalanced.join(", ")} (record does not balance)`, "record_unbalanced", { units: unbalanced });
    return when;
  }

  // null, or a non-empty list of {"line": n, "commitment": hex} by ascending line (FORMAT.md §1).
  function checkPrivate(priv, nlines, path) {
    if (priv === null) return;
    if (!Array.isArray(priv) || !priv.length) throw new ShapeError(path, "expected null or a non-empty array of {line, commitment}", "private_shape");
    let last = 0;
    priv.forEach((p, i) => {
      const pp = `${path}[${i}]`;
      if (!isObj(p) || !sameKeys(p, PRIVATE_KEYS)) throw new ShapeError(pp, "an entry has exactly line and commitment", "private_entry");
      if (!isInt(p.line) || p.line < 1 || p.line > nlines) throw new ShapeError(`${pp}.line`, `expected a line number 1..${nlines}, got ${short(p.line)}`, "private_line", { n: nlines, value: short(p.line) });
      if (p.line <= last) throw new ShapeError(`${pp}.line`, "lines must be ascending and distinct", "private_order");
      last = p.line;
      if (!isStr(p.commitment) || !/^[0-9a-f]{64}$/.test(p.commitment)) throw new ShapeError(`${pp}.commitment`, "expected 64 lower-case hex digits", "commitment_hex");
    });
  }

  const balKey = (a, f, u) => JSON.stringify([a, f, u]);
  const sortKey = (a, f, u) => [a, f !== null, f || "", u];

  function cmpSortKeys(x, y) {
    for (let i = 0; i < 4; i++) {
      if (i === 1) {
        if (x[1] !== y[1]) return x[1] ? 1 : -1;
        continue;
      }
      const c = cmpCodePoints(x[i], y[i]);
      if (c) return c;
    }
    return 0;
  }

  function balancesFromJson(rows, path) {
    if (!Array.isArray(rows)) throw new ShapeError(path, `expected an array, got ${jsonType(rows)}`);
    const out = new Map();
    let last = null;
    rows.forEach((row, n) => {
      const rp = `${path}[${n}]`;
      const a = require(row, "account", ["string"], rp);
      const f = require(row, "fund", ["string", "null"], rp);
      const u = require(row, "unit", ["string"], rp);
      const b = require(row, "balance", ["integer"], rp);
      const k = balKey(a, f, u);
      const label = `${a}${f !== null ? " fund " + f : ""} ${u}`;
      if (out.has(k)) throw new ShapeError(rp, `balance of ${label} is listed twice`, "balance_twice", { account: a, fund: f, unit: u });
      if (b === 0) throw new ShapeError(rp, `zero balance of ${label} is listed (zero entries are left out)`, "balance_zero", { account: a, fund: f, unit: u });
      const sk = sortKey(a, f, u);
      if (last && cmpSortKeys(sk, last) < 0) throw new ShapeError(rp, "entries are not sorted by account, fund (null first), unit", "balance_order");
      last = sk;
      out.set(k, BigInt(b));
    });
    return out;
  }

  function addRecords(opening, records) {
    const out = new Map(opening);
    for (const rec of records) {
      for (const ln of rec.lines) {
        const k = balKey(ln.account, ln.fund, ln.unit);
        out.set(k, (out.get(k) || 0n) + BigInt(ln.debit) - BigInt(ln.credit));
      }
    }
    for (const [k, v] of out) if (v === 0n) out.delete(k);
    return out;
  }

  // The balances that differ, as messages (amounts in yuan); ``opening``: previous closing
  // against this report's opening.
  function diffBalances(expected, actual, opening = false, limit = 5) {
    const keys = [...new Set([...expected.keys(), ...actual.keys()])]
      .map((k) => JSON.parse(k))
      .sort((x, y) => cmpSortKeys(sortKey(...x), sortKey(...y)));
    const diffs = [];
    for (const [a, f, u] of keys) {
      const k = balKey(a, f, u);
      const e = expected.get(k) || 0n, g = actual.get(k) || 0n;
      const what = balanceLabel(a, f, u);
      if (e !== g) {
        diffs.push(opening
          ? M("opening_diff", { what, recomputed: yuan(e, u), stated: yuan(g, u) }, `${what}: previous closing ${yuan(e, u)}, opening ${yuan(g, u)}`)
          : M("balance_diff", { what, recomputed: yuan(e, u), stated: yuan(g, u) }, `${what}: recomputed ${yuan(e, u)}, the report says ${yuan(g, u)}`));
      }
    }
    if (diffs.length > limit) {
      const shown = diffs.slice(0, limit), more = diffs.length - limit;
      return [M("list_and_more", { items: shown, more }, `${shown.join("; ")}; ... and ${more} more`)];
    }
    return diffs;
  }

  function accountsFromJson(rows, path) {
    if (!Array.isArray(rows)) throw new ShapeError(path, `expected an array, got ${jsonType(rows)}`);
    const out = new Map();
    rows.forEach((row, n) => {
      const rp = `${path}[${n}]`;
      const code = require(row, "code", ["string"], rp);
      const side = require(row, "normal_side", ["string"], rp);
      if (side !== "debit" && side !== "credit") throw new ShapeError(`${rp}.normal_side`, `expected debit or credit, got ${short(side)}`, "normal_side", { value: short(side) });
      require(row, "type", ["string"], rp);
      const parent = require(row, "parent", ["string", "null"], rp);
      if (out.has(code)) throw new ShapeError(rp, `account ${code} is listed twice`, "account_twice", { account: code });
      out.set(code, { code, normalSide: side, parent });
    });
    for (const acc of out.values()) {
      const seen = new Set([acc.code]);
      let p = acc.parent;
      while (p !== null) {
        if (!out.has(p)) throw new ShapeError(path, `account ${acc.code}: parent ${p} is not listed`, "parent_missing", { account: acc.code, parent: p });
        if (seen.has(p)) throw new ShapeError(path, `account ${acc.code}: parent links form a cycle`, "parent_cycle", { account: acc.code });
        seen.add(p);
        p = out.get(p).parent;
      }
    }
    return out;
  }

  function rolledUp(balances, accounts, unit = "CNY") {
    const out = new Map();
    for (const [k, v] of balances) {
      const [code, , u] = JSON.parse(k);
      if (u !== unit) continue;
      const acc = accounts.get(code);
      if (!acc) throw new ShapeError("accounts", `account ${code} has a balance but is not listed`, "account_unlisted", { account: code });
      const signed = acc.normalSide === "debit" ? v : -v;
      let c = code;
      while (c !== null) {
        out.set(c, (out.get(c) || 0n) + signed);
        c = accounts.has(c) ? accounts.get(c).parent : null;
      }
    }
    return out;
  }

  function parseStatementLines(lines, path) {
    if (!Array.isArray(lines)) throw new ShapeError(path, `expected an array, got ${jsonType(lines)}`);
    const out = [];
    const byKey = new Map();
    lines.forEach((raw, n) => {
      const lp = `${path}[${n}]`;
      const key = require(raw, "key", ["string"], lp);
      const kind = require(raw, "kind", ["string"], lp);
      if (!LINE_KINDS.has(kind)) throw new ShapeError(`${lp}.kind`, `unknown line kind ${short(kind)}`, "line_kind", { value: short(kind) });
      const rawAccounts = raw.accounts == null ? [] : raw.accounts;
      if (!Array.isArray(rawAccounts)) throw new ShapeError(`${lp}.accounts`, "expected an array of {code, sign}", "line_accounts");
      const accounts = rawAccounts.map((ref, m) => {
        const rp = `${lp}.accounts[${m}]`;
        const code = require(ref, "code", ["string"], rp);
        const sign = require(ref, "sign", ["integer"], rp);
        if (sign !== 1 && sign !== -1) throw new ShapeError(`${rp}.sign`, `sign must be 1 or -1, got ${sign}`, "line_sign", { value: sign });
        return [code, sign];
      });
      const rawSum = raw.sum == null ? [] : raw.sum;
      if (!Array.isArray(rawSum)) throw new ShapeError(`${lp}.sum`, "expected an array of keys", "line_sum");
      const terms = rawSum.map((t, m) => {
        if (!isStr(t) || t === "" || t === "-") throw new ShapeError(`${lp}.sum[${m}]`, "expected a line key, '-key' to subtract", "line_sum_term");
        return t.startsWith("-") ? [t.slice(1), -1] : [t, 1];
      });
      const memo = raw.memo === undefined ? false : raw.memo;
      if (typeof memo !== "boolean") throw new ShapeError(`${lp}.memo`, "expected true or false", "line_memo");
      const side = raw.side === undefined ? null : raw.side;
      if (side !== null && side !== "left" && side !== "right") throw new ShapeError(`${lp}.side`, `expected left or right, got ${short(side)}`, "line_side", { value: short(side) });
      if (!Object.prototype.hasOwnProperty.call(raw, "amount")) throw new ShapeError(`${lp}.amount`, "missing", "missing");
      const amount = raw.amount;
      if (kind === "heading") {
        if (accounts.length || terms.length) throw new ShapeError(lp, "a heading has no accounts and no sum", "line_heading");
        if (amount !== null) throw new ShapeError(`${lp}.amount`, "a heading has no amount (null)", "line_heading_amount");
      } else {
        if (!isInt(amount)) throw new ShapeError(`${lp}.amount`, `expected an integer, got ${jsonType(amount)}`, "wrong_type", { expected: ["integer"], got: jsonType(amount) });
        if (kind === "item" && terms.length) throw new ShapeError(lp, "an item line uses accounts, not sum", "line_item_sum");
        if ((kind === "subtotal" || kind === "total") && (accounts.length || !terms.length)) throw new ShapeError(lp, `a ${kind} line needs sum and no accounts`, "line_total_sum", { kind });
      }
      if (byKey.has(key)) throw new ShapeError(`${lp}.key`, `line key ${JSON.stringify(key)} is used twice`, "line_key_twice", { key });
      const line = { key, kind, accounts, sum: terms, memo, side, amount, path: lp };
      byKey.set(key, line);
      out.push(line);
    });
    for (const ln of out) {
      for (const [t] of ln.sum) {
        const target = byKey.get(t);
        if (!target) throw new ShapeError(ln.path, `'${ln.key}' sums unknown line '${t}'`, "line_sum_unknown", { key: ln.key, term: t });
        if (target.kind === "heading") throw new ShapeError(ln.path, `'${ln.key}' sums heading '${t}'`, "line_sum_heading", { key: ln.key, term: t });
        if (target.memo && !ln.memo) throw new ShapeError(ln.path, `'${ln.key}' sums memo line '${t}' (其中 lines are not summed)`, "line_sum_memo", { key: ln.key, term: t });
      }
    }
    const state = new Map();
    const visit = (key) => {
      if (state.get(key) === 2) return;
      if (state.get(key) === 1) throw new ShapeError(byKey.get(key).path, `line sums form a cycle through '${key}'`, "line_cycle", { term: key });
      state.set(key, 1);
      for (const [t] of byKey.get(key).sum) visit(t);
      state.set(key, 2);
    };
    for (const k of byKey.keys()) visit(k);
    return out;
  }

  function evaluateLines(lines, rolled) {
    const byKey = new Map(lines.map((l) => [l.key, l]));
    const out = new Map();
    const amount = (key) => {
      if (!out.has(key)) {
        const ln = byKey.get(key);
        let v = 0n;
        if (ln.kind === "item") for (const [code, sign] of ln.accounts) v += BigInt(sign) * (rolled.get(code) || 0n);
        else for (const [k, sign] of ln.sum) v += BigInt(sign) * amount(k);
        out.set(key, v);
      }
      return out.get(key);
    };
    for (const ln of lines) if (ln.kind !== "heading") amount(ln.key);
    return out;
  }

  function totalLines(lines) {
    const totals = lines.filter((l) => l.kind === "total" && !l.memo);
    const left = totals.filter((l) => l.side === "left"), right = totals.filter((l) => l.side === "right");
    if (left.length === 1 && right.length === 1) return [left[0], right[0]];
    if (totals.length >= 2 && !left.length && !right.length) return [totals[0], totals[totals.length - 1]];
    throw new ShapeError("statements", "cannot tell the balance sheet's two grand totals apart", "sheet_totals");
  }

  // A list of problems (strings or Msgs): the first ``limit``, then how many more.
  const compactCount = (first, got) => M("compact_count", { first, want: popcount(first), got }, `a compact range of ${first} leaves has ${popcount(first)} hashes, got ${got}`);

  function problems(items, total = items.length, limit = 5) {
    const shown = items.slice(0, limit);
    if (total > limit) return M("list_more", { items: shown, more: total - limit }, `${shown.join("; ")}; ... ${total - limit} more`);
    return M("list", { items: shown }, shown.join("; "));
  }

  // A balance's account, fund and unit in words (the CLI's balance_of).
  function balanceLabel(a, f, u) {
    const unit = u === "CNY" ? M("unit_cny", {}, "CNY") : u;
    const en = `${a}${f !== null ? " fund " + f : ""} ${u}`;
    return f === null ? M("balance_of", { account: a, unit }, en) : M("balance_of_fund", { account: a, fund: f, unit }, en);
  }

  const JSON_TYPES = new Set(["object", "array", "string", "integer", "boolean", "null", "number"]);
  const typeName = (t) => (JSON_TYPES.has(t) ? M(`json_${t}`, {}, t) : t);

  // What an error thrown while checking means, as a message with the CLI's id (verify.py's
  // _describe): shape_<code>, note_<code>, merkle_<check>, or a check's own finding.
  function describe(e) {
    if (e instanceof Outcome) return e.msg;
    if (e instanceof InputError) return e.msg;
    if (e instanceof ShapeError) {
      const p = { ...e.params, path: e.path, detail: e.detail };
      if (p.got !== undefined) p.got = typeName(p.got);
      if (Array.isArray(p.expected)) {
        const names = p.expected.map(typeName);
        p.expected = names.length === 1 ? names[0] : M("either", { a: names[0], b: names[1] }, e.params.expected.join(" or "));
      }
      if (e.code === "record_fields") {
        const parts = [];
        if (p.missing.length) parts.push(M("fields_missing", { fields: new Seq(p.missing) }, `missing ${p.missing.join(", ")}`));
        if (p.extra.length) parts.push(M("fields_extra", { fields: new Seq(p.extra) }, `unexpected ${p.extra.join(", ")}`));
        p.fields = M("list", { items: parts }, parts.join("; "));
      }
      if (e.code === "balance_twice" || e.code === "balance_zero") p.what = balanceLabel(p.account, p.fund, p.unit);
      if (Array.isArray(p.units)) p.units = new Seq(p.units);
      return M(`shape_${e.code}`, p, e.message);
    }
    if (e instanceof NoteError) {
      const p = { ...e.params, detail: e.detail };
      if (Array.isArray(p.signers)) p.signers = p.signers.length ? new Seq(p.signers) : M("nobody", {}, "nobody");
      if (p.what === "verifier key") p.what = M("note_what_vkey", {}, "verifier key");
      return M(`note_${e.code}`, p, e.detail);
    }
    if (e instanceof VerificationError) return M(`merkle_${e.check}`, { detail: e.detail, check: e.check }, e.message);
    if (e instanceof CanonicalError) return M("canonical", { detail: e.message }, e.message);
    if (e instanceof RangeError) return M("too_deep", {}, "input is nested too deeply");
    const text = e && e.message ? e.message : String(e);
    return M("unexpected_error", { kind: (e && e.name) || "Error", detail: text }, `unexpected error (${(e && e.name) || "Error"}): ${text}`);
  }

  // ================================================================= keys

  const KEY_FIELD = M("source_key_field", {}, "the key field");

  async function parseKey(text) {
    let t = String(text || "").trim();
    if (!t) return null;
    if (t.startsWith("{")) {
      let doc;
      try {
        doc = JSON.parse(t);
      } catch (e) {
        throw new InputError(M("input_json", { what: KEY_FIELD, detail: e.message }, `key: not valid JSON (${e.message})`));
      }
      if (isObj(doc) && isObj(doc.public_key)) doc = doc.public_key;
      if (!isObj(doc) || !isStr(doc.ed25519)) throw new InputError(M("input_key_field", { what: KEY_FIELD }, 'key: a JSON key needs an "ed25519" field'));
      const inner = await parseKey(doc.ed25519);
      if (!inner || inner.raw === null) throw new InputError(M("input_key_fingerprint", { what: KEY_FIELD }, 'key: "ed25519" is the key in base64, not its fingerprint'));
      return { ...inner, name: isStr(doc.name) ? doc.name : null };
    }
    if (/^[0-9a-fA-F]{64}$/.test(t)) return { raw: null, fingerprint: t.toLowerCase(), source: KEY_FIELD };
    const vk = /^([^+\s]+)\+([0-9a-fA-F]{8})\+(.+)$/.exec(t);
    if (vk) {
      let blob;
      try {
        blob = b64decode(vk[3], "verifier key");
      } catch (e) {
        throw new InputError(M("input_key_error", { what: KEY_FIELD, error: describe(e) }, "key: verifier key is not valid base64"));
      }
      const keyError = (code, en) => new InputError(M("input_key_error", { what: KEY_FIELD, error: M(`note_${code}`, { detail: en }, en) }, `key: ${en}`));
      if (blob.length !== 33 || blob[0] !== 1) throw keyError("vkey_type", "verifier key is not an Ed25519 key");
      const raw = blob.slice(1);
      if (hex(await keyId(vk[1], raw)) !== vk[2].toLowerCase()) throw keyError("vkey_id", "verifier key's key id does not match its name and key");
      return { raw, fingerprint: hex(await sha256(raw)), source: KEY_FIELD, name: vk[1] };
    }
    let raw = null;
    try {
      raw = b64decode(t, "key");
    } catch (e) {
      raw = null;
    }
    if (!raw || raw.length !== 32) throw new InputError(M("input_key_invalid", { what: KEY_FIELD }, "key: not a key (expected base64 of 32 bytes, a 64-hex-digit fingerprint, or name+keyid+base64)"));
    return { raw, fingerprint: hex(await sha256(raw)), source: KEY_FIELD };
  }

  async function publicKeyField(doc, where) {
    const pk = require(doc, "public_key", ["object"], where);
    const name = require(pk, "name", ["string"], `${where}.public_key`);
    const b64 = require(pk, "ed25519", ["string"], `${where}.public_key`);
    const fp = require(pk, "fingerprint", ["string"], `${where}.public_key`);
    const raw = b64decode(b64, "public_key.ed25519");
    if (raw.length !== 32) throw fail(M("pk_length", { n: raw.length }, `public_key.ed25519 is ${raw.length} bytes, an Ed25519 key is 32`));
    if (fp.toLowerCase() !== hex(await sha256(raw))) throw fail(M("pk_fingerprint", {}, "public_key.fingerprint is not the SHA-256 of public_key.ed25519"));
    return [name, raw];
  }

  async function chooseKey(own, ownError, origin, user, what) {
    if (own && own[0] !== origin) return [user ? user.raw : null, fail(M("key_named", { what: doc(what), name: `'${own[0]}'`, origin: `'${origin}'` }, `${what}'s public_key is named '${own[0]}', not '${origin}'`))];
    if (!user) {
      if (!own) return [null, fail(M("key_none", { error: ownError }, `no usable key: ${ownError}; give the organisation's published key`))];
      const fp = hex(await sha256(own[1]));
      return [own[1], warn(
        // A receipt's own key: the CLI's words (the page's own template speaks of a report).
        M(what === "receipt" ? "key_own" : "key-own", { fp: groupedHex(fp), what: doc(what) }, `no key was given, so the ${what}'s own key (fingerprint ${fp}) was used: this proves only that the ${what} is internally consistent`),
        M("key-own-action", { fp: groupedHex(fp) }, `pass --key with the verifier key shown on the organisation's page (its fingerprint should read ${fp}: compare it with the one posted at the community office)`),
      )];
    }
    if (user.raw) {
      if (own && !eqBytes(own[1], user.raw)) {
        const ownFp = hex(await sha256(own[1]));
        return [user.raw, fail(M("key_not_given", { what: doc(what), own: ownFp, source: user.source, fp: user.fingerprint }, `the ${what}'s public key (fingerprint ${ownFp}) is not the key given by ${user.source} (fingerprint ${user.fingerprint})`))];
      }
      return [user.raw, M("key-given", { fp: groupedHex(user.fingerprint), source: user.source }, `signatures are checked with the key given by ${user.source} (${user.fingerprint})`)];
    }
    if (!own) return [null, fail(M("key_fp_unusable", { what: doc(what), error: ownError }, `only a fingerprint was given and the ${what}'s key is unusable: ${ownError}`))];
    const fp = hex(await sha256(own[1]));
    if (fp !== user.fingerprint) return [null, fail(M("key_fp_differs", { what: doc(what), own: fp, fp: user.fingerprint, source: user.source }, `the ${what}'s public key has fingerprint ${fp}, not ${user.fingerprint} given by ${user.source}`))];
    return [own[1], M("key-fingerprint", { fp: groupedHex(fp), source: user.source }, `the ${what}'s key matches the fingerprint given by ${user.source}`)];
  }

  const groupedHex = (h) => h.replace(/(.{4})(?=.)/g, "$1 ");

  // The origin a document claims: its checkpoint's first line, else its key's name.
  function claimedOrigin(doc) {
    try {
      return openCheckpoint(doc.checkpoint).origin;
    } catch (e) {
      return isObj(doc.public_key) && isStr(doc.public_key.name) ? doc.public_key.name : null;
    }
  }

  // What a bundle and a receipt check alike about the log's origin.
  function setOrigin(v, bookId) {
    v.bookId = bookId;
    v.origin = v.expectedOrigin || claimedOrigin(v.doc) || `<unknown host>/commons-ledger/${bookId}`;
  }

  function checkOriginOf(v, mismatch) {
    if (!v.cp || v.origin === null) throw skip(M("needs-checkpoint", {}, "needs a readable checkpoint"));
    if (v.cp.origin !== v.origin) throw fail(M("checkpoint_other", { origin: `'${v.cp.origin}'`, mismatch }, `checkpoint is for '${v.cp.origin}', ${mismatch}`));
    if (bookOfOrigin(v.cp.origin) !== v.bookId) throw fail(M("origin_not_book", { origin: `'${v.cp.origin}'`, book: v.bookId }, `the checkpoint's origin '${v.cp.origin}' does not name book ${v.bookId} as <host>/commons-ledger/<book id>`));
    if (!v.expectedOrigin && v.prefix) throw skip(M("origin-previous", { origin: v.origin }, `the log's origin is ${v.origin}; it is compared with the organisation's page for the report being verified`));
    if (!v.expectedOrigin) {
      throw skip(
        M("origin-unchecked", { origin: v.origin }, `the log's origin is ${v.origin}; it was not compared with the one the organisation's page states`),
        M("origin-action", { origin: v.origin }, `pass --key with the verifier key shown on the organisation's page (it names the origin), or --origin ${v.origin} after comparing it with that page`),
      );
    }
    return M("origin-pass", { origin: v.origin }, `the log's origin is ${v.origin}, as the organisation's page states`);
  }

  function b64Hashes(value, path) {
    if (!Array.isArray(value)) throw new ShapeError(path, "expected an array of base64 hashes", "hashes");
    return value.map((h, i) => {
      let raw = null;
      try {
        raw = isStr(h) ? b64decode(h, `${path}[${i}]`) : null;
      } catch (e) {
        raw = null;
      }
      if (!raw || raw.length !== HASH_SIZE) throw new ShapeError(`${path}[${i}]`, "expected base64 of a 32-byte hash", "hash_b64");
      return raw;
    });
  }

  // ================================================================= report

  class Report {
    constructor() {
      this.checks = [];
      this.inputErrors = [];
    }
    add(check, status, message, action = "") {
      // message/action: the English text (as the CLI's); msg/actionMsg: what the page shows.
      this.checks.push({ check, status, message: String(message), action: String(action || ""), msg: message, actionMsg: action || "" });
    }
    async run(name, fn) {
      try {
        const message = await fn();
        this.add(name, PASS, message || "ok");
        return true;
      } catch (e) {
        if (e instanceof Outcome) {
          this.add(name, e.status, e.msg, e.action);
          return e.status === PASS || e.status === WARN;
        }
        this.add(name, FAIL, describe(e));
        return false;
      }
    }
    get failed() {
      return this.checks.filter((c) => c.status === FAIL);
    }
    // Did not run (SKIP), or ran without something only the user can give (an action). The
    // previous report's own checks vouch for that report, not this one (as the CLI).
    get incomplete() {
      return this.checks.filter((c) => (c.check.startsWith("previous.") && !c.action ? false : c.status === SKIP || !!c.action));
    }
    get verdict() {
      if (this.inputErrors.length || this.failed.length || !this.checks.length) return "not_verified";
      return this.incomplete.length ? "partly_checked" : "verified";
    }
    get exitCode() {
      if (this.inputErrors.length) return 2;
      if (this.failed.length) return 1;
      return this.incomplete.length ? 3 : 0;
    }
  }

  // ================================================================= bundles

  class BundleVerifier {
    constructor(bundle, report, userKey, prefix = "", previous = null, origin = null) {
      this.b = this.doc = isObj(bundle) ? bundle : {};
      this.expectedOrigin = origin || (userKey && userKey.name) || null;
      this.report = report;
      this.userKey = userKey;
      this.prefix = prefix;
      this.prevBundle = previous;
      this.bookId = null;
      this.origin = null;
      this.key = null;
      this.cp = null;
      this.firstIndex = null;
      this.records = null;
      this.recordDates = null;
      this.leafHashes = null;
      this.leafText = new Map(); // record object → canonical text, for bundle_signature
      this.recordsOk = false;
      this.prevCp = null;
      this.prevEnd = null;
      this.isFirstReport = null;
      this.carried = null;
      this.carriedDates = [];
      this.accounts = null;
      this.opening = null;
      this.closing = null;
      this.movement = null;
      this.statementAmounts = new Map();
    }

    run(name, fn) {
      return this.report.run(this.prefix + name, fn);
    }

    async verify() {
      await this.run("bundle_header", () => this.checkHeader());
      await this.run("key", () => this.checkKey());
      await this.run("checkpoint_signature", () => this.checkSignature());
      await this.run("checkpoint_origin", () => this.checkOrigin());
      await this.run("records", () => this.checkRecords());
      await this.run("log_root", () => this.checkLogRoot());
      await this.run("bundle_signature", () => this.checkBundleSignature());
      await this.run("previous_checkpoint", () => this.checkPreviousCheckpoint());
      await this.run("consistency_proof", () => this.checkConsistency());
      await this.run("compact_range", () => this.checkCompactRange());
      if (this.prevBundle) await this.run("previous_bundle", () => this.checkPreviousBundle());
      await this.run("carried_records", () => this.checkCarried());
      if (this.prevBundle) await this.run("carried_vs_previous", () => this.checkCarriedVsPrevious());
      await this.run("record_dates", () => this.checkRecordDates());
      await this.run("accounts", () => this.checkAccounts());
      await this.run("opening_balances", () => this.checkOpening());
      await this.run("closing_balances", () => this.checkClosing());
      await this.checkStatements();
      await this.run("balance_sheet_balances", () => this.checkBalanceSheetBalances());
      if (this.prevBundle) {
        const key = this.key ? { raw: this.key, fingerprint: hex(await sha256(this.key)), source: M("source_this_bundle", {}, "the key this bundle was checked with"), name: this.expectedOrigin } : this.userKey;
        await new BundleVerifier(this.prevBundle, this.report, key, this.prefix + "previous.", null, this.expectedOrigin).verify();
      }
    }

    checkHeader() {
      const book = require(this.b, "book", ["object"], "bundle");
      const id = require(book, "id", ["integer"], "bundle.book");
      if (id < 1) throw fail(M("book_id_positive", { id }, `book.id ${id} is not a positive integer`));
      const period = require(this.b, "period", ["object"], "bundle");
      const start = parseDate(period.start, "bundle.period.start");
      const end = parseDate(period.end, "bundle.period.end");
      if (start > end) throw fail(M("period_order", { start, end }, `period starts ${start} after it ends ${end}`));
      setOrigin(this, id);
      this.periodStart = start;
      this.periodEnd = end;
      return M("header-pass", { book: id, start, end }, `book ${id}, period ${start} to ${end}`);
    }

    async checkKey() {
      if (this.origin === null) throw skip(M("needs-header", {}, "needs the book id (bundle_header)"));
      let own = null, err = null;
      try {
        own = await publicKeyField(this.b, "bundle");
      } catch (e) {
        err = describe(e);
      }
      const [key, outcome] = await chooseKey(own, err, this.origin, this.userKey, "bundle");
      this.key = key;
      if (outcome instanceof Outcome) throw outcome;
      return outcome;
    }

    async checkSignature() {
      if (this.origin === null) throw skip(M("needs-header", {}, "needs the book id (bundle_header)"));
      const note = require(this.b, "checkpoint", ["string"], "bundle");
      this.cp = openCheckpoint(note);
      if (!this.key) throw fail(M("no_trusted_key", { check: "key" }, "no trusted key to check the signature with (see key)"));
      await verifyNote(note, this.origin, this.key);
      return M("signature-pass", { size: this.cp.size, origin: this.origin }, `checkpoint of ${this.cp.size} leaves is signed by ${this.origin}`);
    }

    checkOrigin() {
      return checkOriginOf(this, M("bundle_is_book", { book: this.bookId, origin: `'${this.origin}'` }, `this bundle is book ${this.bookId} ('${this.origin}')`));
    }

    // The whole bundle (labels, line definitions, accounts, period), not only the log, is
    // signed: without this a server could relabel a line and every sum would still add up.
    async checkBundleSignature() {
      if (this.origin === null || !this.periodStart || !this.periodEnd) throw skip(M("needs-header-period", {}, "needs the book id and period (bundle_header)"));
      if (!Object.prototype.hasOwnProperty.call(this.b, "signature")) throw fail(M("no_signature", {}, 'the bundle has no "signature": its statements and labels are not signed'));
      const note = require(this.b, "signature", ["string"], "bundle");
      if (!this.key) throw fail(M("no_trusted_key", { check: "key" }, "no trusted key to check the signature with (see key)"));
      const text = await verifyNote(note, this.origin, this.key);
      const lines = text.slice(0, -1).split("\n");
      if (lines.length !== 3) throw fail(M("sig_lines", { n: lines.length }, `the signed text has ${lines.length} lines, a bundle signature has 3`));
      const unsigned = {};
      for (const k of Object.keys(this.b)) if (k !== "signature") unsigned[k] = this.b[k];
      const digest = hex(await sha256(te.encode(jcs(unsigned, this.leafText))));
      const want = [`${this.origin}/report`, `${this.periodStart}..${this.periodEnd}`, digest];
      const signed0 = `'${lines[0].slice(0, 80)}'`, signed1 = `'${lines[1].slice(0, 40)}'`;
      if (lines[0] !== want[0]) throw fail(M("sig-for-other", { signed: signed0, want: `'${want[0]}'` }, `the signature is for ${signed0}, this bundle is '${want[0]}'`));
      if (lines[1] !== want[1]) throw fail(M("sig-for-period", { signed: signed1, want: `'${want[1]}'` }, `the signature is for the period ${signed1}, this bundle says '${want[1]}'`));
      if (lines[2] !== want[2]) throw fail(M("sig-hash-changed", {}, 'the bundle\'s SHA-256 (canonical JSON without "signature") is not the signed one: something in the bundle was changed after it was signed'));
      return M("bundle-signature-pass", { period: want[1] }, `the bundle (hash ${digest.slice(0, 16)}…) is signed by ${this.origin} for ${want[1]}`);
    }

    async checkRecords() {
      if (this.bookId === null) throw skip(M("needs-header", {}, "needs the book id (bundle_header)"));
      const log = require(this.b, "log", ["object"], "bundle");
      const first = require(log, "first_index", ["integer"], "bundle.log");
      if (first < 0) throw fail(M("first_index_negative", { first }, `log.first_index ${first} is negative`));
      const records = require(log, "records", ["array"], "bundle.log");
      this.firstIndex = first;
      this.records = records;
      const found = [];
      let count = 0;
      const dates = [];
      const data = [];
      let canonical = true;
      records.forEach((rec, i) => {
        const path = `log.records[${i}]`;
        let shapeOk = false;
        try {
          dates.push(checkRecord(rec, path));
          shapeOk = true;
          if (rec.index !== first + i) throw fail(M("record_position", { path, index: rec.index, want: first + i }, `${path}: index is ${rec.index}, its position says ${first + i}`));
          if (rec.book !== this.bookId) throw fail(M("record_book", { path, book: rec.book, want: this.bookId }, `${path}: book is ${rec.book}, not ${this.bookId}`));
        } catch (e) {
          count++;
          if (found.length < 10) found.push(describe(e));
        }
        if (canonical) {
          try {
            let bytes;
            if (shapeOk) {
              const text = checkedRecordText(rec);
              this.leafText.set(rec, text);
              bytes = te.encode(text);
            } else {
              bytes = jcsBytes(rec);
            }
            data.push(concat(Uint8Array.of(0), bytes));
          } catch (e) {
            found.push(M("record_canonical", { path, error: describe(e) }, `${path}: cannot be canonicalised (${e.message})`));
            count++;
            canonical = false;
          }
        }
      });
      this.leafHashes = canonical ? await sha256All(data) : null;
      if (count) throw fail(problems(found, count));
      this.recordDates = dates;
      this.recordsOk = true;
      if (!records.length) return M("records-none", {}, "no voucher was posted in this report's part of the log");
      return M("records-pass", { n: records.length, first, last: first + records.length - 1 }, `${records.length} records, log indices ${first} to ${first + records.length - 1}`);
    }

    async checkLogRoot() {
      if (!this.cp) throw skip(M("needs-checkpoint", {}, "needs a readable checkpoint"));
      if (!this.leafHashes || this.firstIndex === null) throw fail(M("root_unreadable", {}, "cannot compute the root: the records could not be read"));
      const compact = b64Hashes(require(this.b.log, "compact_range", ["array"], "bundle.log"), "log.compact_range");
      const expected = this.firstIndex + this.leafHashes.length;
      if (this.cp.size !== expected) {
        throw fail(M("root-size", { size: this.cp.size, first: this.firstIndex, n: this.leafHashes.length, expected }, `checkpoint size is ${this.cp.size} but first_index ${this.firstIndex} + ${this.leafHashes.length} records = ${expected}`));
      }
      if (compact.length !== popcount(this.firstIndex)) throw fail(compactCount(this.firstIndex, compact.length));
      const folded = await foldLog(compact, this.firstIndex, this.leafHashes);
      if (!eqBytes(folded.root, this.cp.root)) {
        throw fail(M("root-differs", {}, "the root recomputed from the compact range and the records is not the checkpoint's root: a record was changed, added, removed or reordered"));
      }
      return M("log-root-pass", { n: this.leafHashes.length }, `root recomputed from ${this.leafHashes.length} records equals the checkpoint's (size ${folded.size})`);
    }

    async checkPreviousCheckpoint() {
      if (this.origin === null) throw skip(M("needs-header", {}, "needs the book id (bundle_header)"));
      if (!Object.prototype.hasOwnProperty.call(this.b, "previous")) throw fail(M("previous_missing", {}, "bundle.previous: missing (null for a book's first report)"));
      const prev = this.b.previous;
      if (prev === null) {
        this.isFirstReport = true;
        if (this.firstIndex !== null && this.firstIndex !== 0) throw fail(M("previous_first_index", { first: this.firstIndex }, `no previous report, yet the log starts at index ${this.firstIndex} (not 0)`));
        return M("first-report", {}, "first report of the book: there is no previous report to continue");
      }
      this.isFirstReport = false;
      if (!isObj(prev)) throw fail(M("previous_not_object", {}, "bundle.previous: expected an object or null"));
      const note = require(prev, "checkpoint", ["string"], "bundle.previous");
      this.prevEnd = parseDate(prev.period_end, "bundle.previous.period_end");
      this.prevCp = openCheckpoint(note);
      const found = [];
      if (!this.key) found.push(M("previous_no_key", {}, "no trusted key to check its signature with"));
      else {
        try {
          await verifyNote(note, this.origin, this.key);
        } catch (e) {
          found.push(M("previous_signature", { error: describe(e) }, `signature: ${e.message}`));
        }
      }
      if (this.prevCp.origin !== this.origin) found.push(M("previous_other_origin", { origin: `'${this.prevCp.origin}'`, want: `'${this.origin}'` }, `it is for '${this.prevCp.origin}', not '${this.origin}'`));
      if (this.firstIndex !== null && this.prevCp.size !== this.firstIndex) found.push(M("previous_size", { size: this.prevCp.size, first: this.firstIndex }, `its size ${this.prevCp.size} is not log.first_index ${this.firstIndex}`));
      if (this.periodStart && this.prevEnd >= this.periodStart) found.push(M("previous_period", { end: this.prevEnd, start: this.periodStart }, `previous period_end ${this.prevEnd} is not before this period's start ${this.periodStart}`));
      if (found.length) throw fail(M("list", { items: found }, found.join("; ")));
      return M("previous-checkpoint-pass", {}, `previous checkpoint (size ${this.prevCp.size}) is signed by the same key`);
    }

    async checkConsistency() {
      if (this.isFirstReport) return M("first-report-consistency", {}, "first report of the book: there is no earlier signed log to compare with");
      if (!this.prevCp || !this.cp) throw skip(M("needs-both-checkpoints", {}, "needs both checkpoints"));
      const proof = b64Hashes(require(this.b.previous, "consistency_proof", ["array"], "bundle.previous"), "previous.consistency_proof");
      if (this.prevCp.size === 0) {
        if (proof.length) throw fail(M("consistency_from_empty", {}, "a proof from the empty log must be empty"));
        return M("consistency-empty", {}, "the previous checkpoint was of an empty log; every log extends it");
      }
      await verifyConsistency(this.prevCp.size, this.cp.size, this.prevCp.root, this.cp.root, proof);
      return M("consistency-pass", {}, `the log of size ${this.cp.size} extends the previous one of size ${this.prevCp.size}: nothing was rewritten`);
    }

    async checkCompactRange() {
      if (this.firstIndex === null) throw skip(M("needs_first_index", {}, "needs log.first_index"));
      const compact = b64Hashes(require(this.b.log, "compact_range", ["array"], "bundle.log"), "log.compact_range");
      if (compact.length !== popcount(this.firstIndex)) throw fail(compactCount(this.firstIndex, compact.length));
      if (this.isFirstReport) return M("first-report-compact", {}, "first report: the log starts empty");
      if (!this.prevCp) throw skip(M("needs_previous_checkpoint", {}, "needs the previous checkpoint"));
      if (!eqBytes(await foldCompactRange(compact), this.prevCp.root)) throw fail(M("compact_differs", {}, "the compact range does not fold to the previous checkpoint's root"));
      return M("compact-range-pass", {}, "the compact range folds to the previous checkpoint's root");
    }

    async checkCarried() {
      if (!Object.prototype.hasOwnProperty.call(this.b, "carried_records")) throw fail(M("carried_missing", {}, "bundle.carried_records: missing"));
      const carried = require(this.b, "carried_records", ["array"], "bundle");
      if (this.isFirstReport === null) throw skip(M("needs-previous-data", {}, "needs the previous report's data (previous_checkpoint)"));
      if (this.isFirstReport) {
        if (carried.length) throw fail(M("carried_in_first", {}, "the first report of a book cannot carry records from an earlier one"));
        this.carried = [];
        return M("first-report-carried", {}, "first report: nothing carried");
      }
      if (!this.cp || this.firstIndex === null || this.prevEnd === null || !this.periodEnd) throw skip(M("carried_needs_all", {}, "needs the checkpoint, log.first_index and the previous period end"));
      const found = [];
      let last = -1;
      const recs = [];
      for (let i = 0; i < carried.length; i++) {
        const item = carried[i];
        const path = `carried_records[${i}]`;
        try {
          const rec = require(item, "record", ["object"], path);
          const when = checkRecord(rec, `${path}.record`);
          const idx = rec.index;
          if (rec.book !== this.bookId) throw fail(M("record_book", { path, book: rec.book, want: this.bookId }, `${path}: book is ${rec.book}, not ${this.bookId}`));
          if (idx >= this.firstIndex) throw fail(M("carried_not_before", { path, index: idx, first: this.firstIndex }, `${path}: index ${idx} is not before log.first_index ${this.firstIndex}`));
          if (idx <= last) throw fail(M("carried_order", { path, index: idx, last }, `${path}: index ${idx} repeats or is out of order (after ${last})`));
          last = idx;
          if (when <= this.prevEnd) throw fail(M("carried_date", { path, date: when, end: this.prevEnd }, `${path}: dated ${when}, not after the previous period's end ${this.prevEnd}`));
          const proof = b64Hashes(require(item, "inclusion_proof", ["array"], path), `${path}.inclusion_proof`);
          try {
            await verifyInclusion(await leafHashOf(jcsBytes(rec)), idx, this.cp.size, proof, this.cp.root);
          } catch (e) {
            throw fail(M("carried_proof", { path, error: describe(e) }, `${path}: inclusion proof fails: ${e.message}`));
          }
          recs.push(rec);
        } catch (e) {
          found.push(describe(e));
        }
      }
      if (found.length) throw fail(problems(found));
      this.carried = recs;
      this.carriedDates = recs.map((r) => r.date);
      return M("carried-pass", { n: recs.length }, `${recs.length} records from earlier log segments, each proven in this checkpoint`);
    }

    checkRecordDates() {
      if (!this.recordsOk || !this.periodEnd) throw skip(M("needs-valid-records", {}, "needs valid records"));
      const pending = [...this.recordDates, ...this.carriedDates].filter((d) => d > this.periodEnd).length;
      const early = this.records.filter((r, i) => this.recordDates[i] < this.periodStart).map((r) => r.number);
      if (early.length) {
        throw warn(M("record-dates-early", { n: early.length, start: this.periodStart, numbers: problems(early, early.length, 3) }, `${early.length} records dated before ${this.periodStart} were posted after their month's report (${problems(early, early.length, 3)}); they count in this period`));
      }
      return M("record-dates-pass", { n: pending, end: this.periodEnd }, `${pending} pending records dated after ${this.periodEnd} go to a later report`);
    }

    checkAccounts() {
      this.accounts = accountsFromJson(require(this.b, "accounts", ["array"], "bundle"), "bundle.accounts");
      const used = new Set();
      for (const rec of [...(this.recordsOk ? this.records : []), ...(this.carried || [])]) for (const ln of rec.lines) used.add(ln.account);
      const missing = [...used].filter((c) => !this.accounts.has(c)).sort();
      if (missing.length) {
        this.accounts = null;
        throw fail(M("accounts_missing", { accounts: missing.slice(0, 10).join(", ") }, `records use accounts that are not listed: ${missing.slice(0, 10).join(", ")}`));
      }
      return M("accounts-pass", { n: this.accounts.size }, `${this.accounts.size} accounts, parents all listed`);
    }

    checkOpening() {
      this.opening = balancesFromJson(require(this.b, "opening_balances", ["array"], "bundle"), "bundle.opening_balances");
      if (this.isFirstReport) {
        if (this.opening.size) throw fail(M("opening-first", {}, "the first report of a book opens from zero, but opening balances are listed"));
        return M("first-report-opening", {}, "first report: opening balances are all zero");
      }
      if (this.isFirstReport === null) throw skip(M("needs-previous-data", {}, "needs the previous report's data (previous_checkpoint)"));
      if (!this.prevBundle && this.prefix) throw skip(M("opening-not-compared", {}, "not compared with the report before it: each report is checked against the one before it when that one is verified"));
      if (!this.prevBundle) {
        throw skip(
          M("opening-unchecked", { end: this.prevEnd }, `the opening balances and carried records were not compared with the previous report (ending ${this.prevEnd}): it was not given`),
          M("opening-action", { end: this.prevEnd }, `pass --previous with the organisation's report for the period ending ${this.prevEnd} (its bundle, from the organisation's page)`),
        );
      }
      const closing = balancesFromJson(require(this.prevBundle, "closing_balances", ["array"], "previous"), "previous.closing_balances");
      const diffs = diffBalances(closing, this.opening, true);
      if (diffs.length) throw fail(M("opening-differs", { diffs }, `opening balances are not the previous report's closing balances: ${diffs.join("; ")}`));
      return M("opening-pass", { n: closing.size }, `opening balances equal the previous report's ${closing.size} closing balances`);
    }

    checkClosing() {
      if (!this.opening) throw skip(M("closing-needs-opening", {}, "needs readable opening balances"));
      if (!this.recordsOk || !this.carried) throw skip(M("closing-needs-records", {}, "needs valid records and carried records"));
      const stated = balancesFromJson(require(this.b, "closing_balances", ["array"], "bundle"), "bundle.closing_balances");
      const used = this.records.filter((r, i) => this.recordDates[i] <= this.periodEnd)
        .concat(this.carried.filter((r, i) => this.carriedDates[i] <= this.periodEnd));
      this.closing = addRecords(this.opening, used);
      this.movement = addRecords(new Map(), used.filter((r) => r.kind !== "closing"));
      const diffs = diffBalances(this.closing, stated);
      if (diffs.length) throw fail(M("closing-differs", { diffs }, `closing balances differ from opening + the period's records: ${diffs.join("; ")}`));
      return M("closing-pass", { n: used.length }, `opening + ${used.length} records of the period = the ${stated.size} closing balances`);
    }

    async checkStatements() {
      const statements = this.b.statements;
      if (!Array.isArray(statements)) {
        this.report.add(this.prefix + "statements", FAIL, M("statements_not_array", {}, "bundle.statements: expected an array"));
        return;
      }
      if (!statements.length) {
        const chart = isObj(this.b.book) ? this.b.book.chart : null;
        if (chart === "CUSTOM") this.report.add(this.prefix + "statements", PASS, M("statements_custom", {}, "an imported (CUSTOM) chart has no statements"));
        else this.report.add(this.prefix + "statements", WARN, M("statements_none", {}, "the bundle has no statements"));
        return;
      }
      const names = new Set();
      for (let i = 0; i < statements.length; i++) {
        const st = statements[i];
        const name = isObj(st) ? st.statement : null;
        let label = isStr(name) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `#${i}`;
        if (names.has(label)) label = `${label}#${i}`;
        names.add(label);
        await this.run(`statement.${label}`, () => this.checkStatement(st, i));
      }
    }

    checkStatement(st, i) {
      const path = `statements[${i}]`;
      const name = require(st, "statement", ["string"], path);
      const lines = parseStatementLines(require(st, "lines", ["array"], path), `${path}.lines`);
      if (!this.accounts) throw skip(M("statement-needs-accounts", {}, "needs the accounts (see the accounts check)"));
      if (!this.closing || !this.movement) throw skip(M("statement-needs-balances", {}, "needs recomputed balances (see closing_balances)"));
      const flow = name !== "balance_sheet";
      const rolled = rolledUp(flow ? this.movement : this.closing, this.accounts);
      const amounts = evaluateLines(lines, rolled);
      this.statementAmounts.set(name, [lines, amounts]);
      const wrong = lines.filter((l) => l.kind !== "heading" && amounts.get(l.key) !== BigInt(l.amount))
        .map((l) => M("statement-line", { line: l.key, recomputed: yuan(amounts.get(l.key)), stated: yuan(l.amount) }, `line ${l.key}: recomputed ${yuan(amounts.get(l.key))}, the report says ${yuan(l.amount)}`));
      if (wrong.length) throw fail(problems(wrong));
      return M(flow ? "statement-flow-pass" : "statement-sheet-pass", { n: amounts.size }, `all ${amounts.size} lines recomputed from ${flow ? "the period's movements" : "closing balances"}`);
    }

    checkBalanceSheetBalances() {
      const sts = this.b.statements;
      if (!(Array.isArray(sts) && sts.some((st) => isObj(st) && st.statement === "balance_sheet"))) return M("no-balance-sheet", {}, "this report has no balance sheet");
      if (!this.statementAmounts.has("balance_sheet")) throw skip(M("no-balance-sheet-recomputed", {}, "no balance sheet was recomputed"));
      const [lines, amounts] = this.statementAmounts.get("balance_sheet");
      const [left, right] = totalLines(lines);
      if (amounts.get(left.key) !== amounts.get(right.key)) {
        throw fail(M("balance-sheet-fail", { left: yuan(amounts.get(left.key)), right: yuan(amounts.get(right.key)) }, `${left.key} ${yuan(amounts.get(left.key))} ≠ ${right.key} ${yuan(amounts.get(right.key))}: assets do not equal liabilities plus equity / net assets`));
      }
      return M("balance-sheet-pass", { total: yuan(amounts.get(left.key)) }, `${left.key} = ${right.key} = ${yuan(amounts.get(left.key))}`);
    }

    checkPreviousBundle() {
      const prev = this.prevBundle;
      if (this.isFirstReport) throw fail(M("previous-is-first", {}, "this bundle is a book's first report, yet a previous report was given"));
      if (this.bookId === null || this.prevEnd === null) throw skip(M("previous-needs", {}, "needs this bundle's book and previous checkpoint"));
      const found = [];
      const pbook = require(require(prev, "book", ["object"], "previous"), "id", ["integer"], "previous.book");
      if (pbook !== this.bookId) found.push(M("previous-other-book", { book: pbook, want: this.bookId }, `it is a report of book ${pbook}, not ${this.bookId}`));
      if (require(prev, "checkpoint", ["string"], "previous") !== this.b.previous.checkpoint) found.push(M("previous-other-checkpoint", {}, "its checkpoint is not the one this bundle names as previous"));
      const pend = parseDate(require(prev, "period", ["object"], "previous").end, "previous.period.end");
      if (pend !== this.prevEnd) found.push(M("previous-other-end", { end: pend, want: this.prevEnd }, `its period ends ${pend}, this bundle says ${this.prevEnd}`));
      const pk = prev.public_key;
      let praw = null;
      try {
        praw = isObj(pk) && isStr(pk.ed25519) ? b64decode(pk.ed25519, "previous.public_key.ed25519") : null;
      } catch (e) {
        praw = null;
      }
      if (!praw) found.push(M("previous-key-unreadable", {}, "its public_key is unreadable"));
      else if (this.key && !eqBytes(praw, this.key)) found.push(M("previous-other-key", {}, "it shows a different public key"));
      if (found.length) throw fail(M("list", { items: found }, found.join("; ")));
      return M("previous-pass", { end: pend }, `the previous report (ending ${pend}) is the one this bundle continues`);
    }

    checkCarriedVsPrevious() {
      const prev = this.prevBundle;
      if (!this.carried || !this.periodEnd) throw skip(M("carried-needs", {}, "needs valid carried records"));
      const plog = require(prev, "log", ["object"], "previous");
      const precords = require(plog, "records", ["array"], "previous.log");
      const pcarried = require(prev, "carried_records", ["array"], "previous");
      const pend = parseDate(require(prev, "period", ["object"], "previous").end, "previous.period.end");
      const candidates = precords.map((r, i) => [`previous.log.records[${i}]`, r])
        .concat(pcarried.map((c, i) => [`previous.carried_records[${i}]`, require(c, "record", ["object"], `previous.carried_records[${i}]`)]));
      const expected = new Map();
      for (const [path, rec] of candidates) if (checkRecord(rec, path) > pend) expected.set(rec.index, jcs(rec));
      const got = new Map(this.carried.map((r) => [r.index, jcs(r)]));
      const missing = [...expected.keys()].filter((i) => !got.has(i)).sort((a, b) => a - b);
      const extra = [...got.keys()].filter((i) => !expected.has(i)).sort((a, b) => a - b);
      const changed = [...expected.keys()].filter((i) => got.has(i) && got.get(i) !== expected.get(i)).sort((a, b) => a - b);
      const found = [];
      const indices = (list) => problems(list.map(String));
      if (missing.length) found.push(M("not-carried", { indices: indices(missing) }, `not carried: indices ${indices(missing)}`));
      if (extra.length) found.push(M("carried-not-pending", { indices: indices(extra) }, `carried but not pending in the previous report: indices ${indices(extra)}`));
      if (changed.length) found.push(M("carried-differ", { indices: indices(changed) }, `differ from the previous report: indices ${indices(changed)}`));
      if (found.length) throw fail(M("list", { items: found }, found.join("; ")));
      return M("carried-vs-previous-pass", { n: got.size, end: pend }, `the ${got.size} carried records are the previous report's pending records (dated after ${pend})`);
    }
  }

  // ================================================================= receipts

  class ReceiptVerifier {
    constructor(receipt, report, userKey, bundle = null, origin = null) {
      this.r = this.doc = isObj(receipt) ? receipt : {};
      this.expectedOrigin = origin || (userKey && userKey.name) || null;
      this.bookId = null;
      this.report = report;
      this.userKey = userKey;
      this.bundle = bundle;
      this.origin = null;
      this.key = null;
      this.cp = null;
      this.record = null;
    }

    async verify() {
      const run = (n, f) => this.report.run(n, f);
      await run("receipt_record", () => this.checkRecord());
      await run("receipt_key", () => this.checkKey());
      await run("receipt_signature", () => this.checkSignature());
      await run("receipt_origin", () => this.checkOrigin());
      await run("receipt_inclusion", () => this.checkInclusion());
      await run("receipt_commitment", () => this.checkCommitment());
      if (this.bundle) await run("receipt_vs_bundle", () => this.checkVsBundle());
    }

    checkRecord() {
      const index = require(this.r, "index", ["integer"], "receipt");
      const record = require(this.r, "record", ["object"], "receipt");
      if (isInt(record.book) && record.book >= 1) setOrigin(this, record.book);
      checkRecord(record, "receipt.record");
      if (record.index !== index) throw fail(M("receipt-index", { index: record.index, want: index }, `record.index is ${record.index} but the receipt is for index ${index}`));
      this.record = record;
      return M("receipt-record-pass", { number: record.number, index }, `record ${record.number} of book ${record.book}, index ${index}`);
    }

    async checkKey() {
      if (this.origin === null) throw skip(M("needs-record-book", {}, "needs the record's book"));
      let own = null, err = null;
      try {
        own = await publicKeyField(this.r, "receipt");
      } catch (e) {
        err = describe(e);
      }
      const [key, outcome] = await chooseKey(own, err, this.origin, this.userKey, "receipt");
      this.key = key;
      if (this.bundle && this.bundle.key && this.key && !eqBytes(this.key, this.bundle.key)) throw fail(M("receipt-other-key", {}, "the receipt is signed with another key than the bundle"));
      if (outcome instanceof Outcome) throw outcome;
      return outcome;
    }

    async checkSignature() {
      if (this.origin === null) throw skip(M("needs-record-book", {}, "needs the record's book"));
      const note = require(this.r, "checkpoint", ["string"], "receipt");
      this.cp = openCheckpoint(note);
      if (!this.key) throw fail(M("no_trusted_key", { check: "receipt_key" }, "no trusted key to check the signature with (see receipt_key)"));
      await verifyNote(note, this.origin, this.key);
      return M("signature-pass", { size: this.cp.size, origin: this.origin }, `checkpoint of ${this.cp.size} leaves is signed by ${this.origin}`);
    }

    checkOrigin() {
      return checkOriginOf(this, M("receipt_of", { origin: `'${this.origin}'` }, `the record is of '${this.origin}'`));
    }

    async checkInclusion() {
      if (!this.cp) throw skip(M("needs-checkpoint", {}, "needs a readable checkpoint"));
      const record = require(this.r, "record", ["object"], "receipt");
      const index = require(this.r, "index", ["integer"], "receipt");
      const proof = b64Hashes(require(this.r, "inclusion_proof", ["array"], "receipt"), "receipt.inclusion_proof");
      await verifyInclusion(await leafHashOf(jcsBytes(record)), index, this.cp.size, proof, this.cp.root);
      return M("inclusion-pass", { index, size: this.cp.size }, `the record is leaf ${index} of the signed log of ${this.cp.size} leaves`);
    }

    // Each of the receipt's lines opens the record's commitment for that line; the other
    // lines' commitments (co-payers) stay closed: the receipt cannot open them.
    async checkCommitment() {
      const record = require(this.r, "record", ["object"], "receipt");
      const committed = record.private;
      if (committed === null || committed === undefined) throw fail(M("receipt_no_commitments", {}, "the record has no private commitment, so this receipt proves nothing private"));
      if (!Array.isArray(committed)) throw fail(M("receipt_private_not_array", {}, "record.private is not an array of line commitments"));
      const byLine = new Map();
      for (const c of committed) {
        if (isObj(c) && isInt(c.line) && isStr(c.commitment)) byLine.set(c.line, c.commitment);
      }
      const priv = require(this.r, "private", ["array"], "receipt");
      if (!priv.length) throw fail(M("receipt-no-private", {}, "the receipt has no private fields to open the record's commitments with"));
      const nlines = Array.isArray(record.lines) ? record.lines.length : 0;
      const seen = new Set();
      for (let i = 0; i < priv.length; i++) {
        const p = priv[i];
        const pp = `receipt.private[${i}]`;
        const line = require(p, "line", ["integer"], pp);
        require(p, "resident", ["integer"], pp);
        require(p, "name", ["string"], pp);
        require(p, "unit", ["string"], pp);
        const salt = b64decode(require(p, "salt", ["string"], pp), `${pp}.salt`);
        if (!sameKeys(p, ["line", "name", "resident", "salt", "unit"])) throw fail(M("receipt_private_keys", { path: pp }, `${pp} has exactly line, resident, name, unit and salt`));
        if (salt.length !== 16) throw fail(M("receipt_salt_length", { path: pp, n: salt.length }, `${pp}.salt is ${salt.length} bytes, not 16`));
        if (line < 1 || line > nlines) throw fail(M("receipt_line_range", { path: pp, line, n: nlines }, `${pp}.line ${line} is not a line of the record (1..${nlines})`));
        if (seen.has(line)) throw fail(M("receipt_line_twice", { path: pp, line }, `${pp}.line ${line} appears twice in the receipt`));
        seen.add(line);
        if (!byLine.has(line)) throw fail(M("receipt-no-commitment", { line }, `the record has no commitment for line ${line}`));
        const entry = { line: p.line, resident: p.resident, name: p.name, unit: p.unit };
        if (hex(await sha256(concat(salt, jcsBytes(entry)))) !== byLine.get(line)) {
          throw fail(M("receipt-commitment-differs", { line }, `SHA-256(salt ‖ private fields) of line ${line} is not the record's commitment for that line: the salt or a private field differs`));
        }
      }
      return M("receipt-commitment-pass", { n: priv.length }, `the record's commitment opens to the private fields (${priv.map((p) => `line ${p.line}: ${p.name}`).join(", ")})`);
    }

    checkVsBundle() {
      const b = this.bundle;
      if (!this.cp || !b.cp) throw skip(M("needs-both-checkpoints", {}, "needs both checkpoints"));
      if (this.cp.origin !== b.cp.origin) throw fail(M("receipt-other-origin", { origin: this.cp.origin, bundle: b.cp.origin }, `the receipt is for ${this.cp.origin}, the bundle for ${b.cp.origin}`));
      const notes = [];
      if (this.cp.size === b.cp.size && !eqBytes(this.cp.root, b.cp.root)) throw fail(M("receipt-forked", {}, "the receipt's and the bundle's checkpoints have the same size but different roots: the log forked"));
      if (this.record && b.recordsOk && b.firstIndex !== null) {
        const pos = this.record.index - b.firstIndex;
        if (pos >= 0 && pos < b.records.length) {
          if (jcs(b.records[pos]) !== jcs(this.record)) throw fail(M("receipt-other-record", {}, "the bundle holds a different record at the receipt's index"));
          notes.push(M("receipt-same-record", {}, "the bundle holds the same record"));
        }
      }
      if (this.cp.size < b.cp.size) {
        const url = `/api/v1/public/books/${this.record ? this.record.book : "<id>"}/proof?index=${this.r.index}&size=${b.cp.size}`;
        notes.push(M("receipt-older", { size: this.cp.size, bundle: b.cp.size, url }, `the receipt's checkpoint (size ${this.cp.size}) is older than the bundle's (${b.cp.size}); for a proof against it ask for ${url}`));
      }
      return notes.length ? M("list", { items: notes }, notes.join("; ")) : M("receipt-same-book", {}, "same book and key as the bundle");
    }
  }

  // ================================================================= reading and entry points

  // A number token with a fraction or exponent after ':', ',' or '['. Text inside a string can
  // match too; that only costs the slow path, never a wrong answer.
  const MAYBE_FLOAT = /[:,[]\s*-?[0-9]+[.eE]/;

  function parseJsonText(text, whatIn) {
    const what = ["bundle", "previous", "receipt", "file"].includes(whatIn) ? doc(whatIn) : whatIn;
    // A number written with a fraction or an exponent (1.0, 1e3) is a float to Python, and
    // must fail the same checks here although JSON.parse gives an integer. The reviver that
    // can see a number's source is slow, so it runs only if the text may hold such a number.
    const reviver = function (key, value, context) {
      if (typeof value === "number" && context && typeof context.source === "string" && !/^-?(0|[1-9][0-9]*)$/.test(context.source)) {
        return new NonInteger(context.source);
      }
      return value;
    };
    try {
      return MAYBE_FLOAT.test(text) ? JSON.parse(text, reviver) : JSON.parse(text);
    } catch (e) {
      throw new InputError(M("input_json", { what, detail: e.message }, `${what}: not valid JSON (${e.message})`));
    }
  }

  // "bundle report.json": which file, in words (the CLI's file_what).
  const fileWhat = (what, name) => M("file_what", { doc: doc(what), path: name }, `${what} ${name}`);

  async function readFile(file, what) {
    const where = fileWhat(what, file.name);
    if (file.size > MAX_INPUT_BYTES) throw new InputError(M("input_too_large", { what: where, size: file.size }, `${where}: ${file.size} bytes is larger than the 512 MiB limit`));
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(await file.arrayBuffer());
    } catch (e) {
      throw new InputError(M("input_not_text", { what: where }, `${where}: not UTF-8 text`));
    }
    return parseJsonText(text, where);
  }

  const formatOf = (doc) => (isObj(doc) && isStr(doc.format) ? doc.format : null);

  // docs: {bundle, previous, receipt} already parsed (or undefined); keyText: what the user typed.
  async function verifyDocuments(docs, keyText, origin = null) {
    const report = new Report();
    let key = null;
    try {
      key = await parseKey(keyText);
    } catch (e) {
      report.inputErrors.push(describe(e));
    }
    const want = { bundle: DISCLOSURE_FORMAT, previous: DISCLOSURE_FORMAT, receipt: RECEIPT_FORMAT };
    for (const what of ["bundle", "previous", "receipt"]) {
      if (docs[what] === undefined) continue;
      const found = formatOf(docs[what]);
      if (found !== want[what]) {
        report.inputErrors.push(found
          ? M("input_format_other", { what: doc(what), found: `'${found}'`, want: `'${want[what]}'` }, `${what}: format is '${found}', this verifier reads '${want[what]}'`)
          : M("input_format_none", { what: doc(what), want: want[what] }, `${what}: not a Commons Ledger ${want[what]} document (no "format")`));
      }
    }
    if (docs.previous !== undefined && docs.bundle === undefined) report.inputErrors.push(M("input_previous_alone", {}, "a previous report needs the report that follows it, to compare with"));
    if (docs.bundle === undefined && docs.receipt === undefined) report.inputErrors.push(M("input_nothing", {}, "nothing to verify: give a report's bundle and/or a receipt"));
    if (report.inputErrors.length) return report;
    let bv = null;
    if (docs.bundle !== undefined) {
      bv = new BundleVerifier(docs.bundle, report, key, "", docs.previous === undefined ? null : (isObj(docs.previous) ? docs.previous : {}), origin);
      await bv.verify();
    }
    if (docs.receipt !== undefined) await new ReceiptVerifier(docs.receipt, report, key, bv, origin).verify();
    return report;
  }

  // Sort dropped or chosen files by what they are: receipts by format; of two bundles, the one
  // with the earlier period is the previous report.
  function classify(parsed) {
    const docs = {};
    const bundles = [];
    for (const doc of parsed) {
      const fmt = formatOf(doc);
      if (fmt === RECEIPT_FORMAT && docs.receipt === undefined) docs.receipt = doc;
      else bundles.push(doc);
    }
    const endOf = (d) => (isObj(d) && isObj(d.period) && isStr(d.period.end) ? d.period.end : "");
    bundles.sort((a, b) => (endOf(a) < endOf(b) ? 1 : endOf(a) > endOf(b) ? -1 : 0));
    if (bundles.length) docs.bundle = bundles[0];
    if (bundles.length > 1) docs.previous = bundles[1];
    return docs;
  }

  // ================================================================= the page

  // An untranslated (English) message of check ``c`` on a page that is not in English: what
  // the failure means in the page's language, the English text as its technical detail.
  function explain(text, c, i18n) {
    if (!c || !i18n || (document.documentElement.lang || "en").startsWith("en")) return text;
    const base = String(c.check).replace(/^previous\./, "").replace(/^statement\..*/, "statement");
    const camelId = base.split(/[-._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
    if (c.status === FAIL && i18n["fail" + camelId]) return `${i18n["fail" + camelId]} ${i18n.detail.replace("%(text)s", text)}`;
    if (c.status === SKIP && /^needs /.test(text) && i18n.needs) return i18n.needs;
    return text;
  }

  // A message in the page's language: its template (data-msg-<id>, parameters that are
  // messages or lists of them in that language too); else, on a page in another language than
  // English, what the check's failure means (data-fail-<check>) with the English text as its
  // technical detail, or that a check needing an earlier one did not run; else the English.
  // The CLI's message table in the page's language (templates/transparency/_verify_messages.html,
  // generated from transparency/verify.py's MESSAGES): the same ids say the same thing.
  let shared = null;
  function sharedMessages() {
    if (shared === null) {
      const el = document.getElementById("verify-messages");
      try {
        shared = el ? JSON.parse(el.textContent) : {};
      } catch (e) {
        shared = {};
      }
    }
    return shared;
  }

  function sayIn(m, c, i18n) {
    if (m instanceof Msg) {
      // An id of the CLI's table (snake_case) says what the CLI says; the page's own
      // templates (data-msg-*, kebab-case ids) are for what only the page says.
      const t = sharedMessages()[m.id] || i18n["msg" + m.id.split(/[-._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("")];
      if (t) {
        const zh = (document.documentElement.lang || "").startsWith("zh");
        const param = (v) => (Array.isArray(v) ? v.map(param).join(i18n.listSep || "; ")
          : v instanceof Seq ? v.items.map(param).join(zh ? "、" : ", ")
          : v instanceof Msg ? sayIn(v, null, i18n) : String(v));
        const text = t.replace(/%\((\w+)\)s/g, (_all, k) => (m.params[k] === undefined ? "" : param(m.params[k])));
        return translatedDetail(text, String(m), c, i18n);
      }
    }
    return explain(String(m || ""), c, i18n);
  }

  // A translated detail of check ``c`` (``en``: its English text): on a page not in English a
  // failure says first what it means, a check that needs an earlier one says so, then the
  // detail follows in the page's language.
  function translatedDetail(text, en, c, i18n) {
    if (!c || (document.documentElement.lang || "en").startsWith("en") || !i18n.detailTranslated) return text;
    const detail = i18n.detailTranslated.replace("%(text)s", text);
    if (c.status === SKIP && /^needs /.test(en) && i18n.needs) return `${i18n.needs} ${detail}`;
    if (c.status !== FAIL) return text;
    const base = String(c.check).replace(/^previous\./, "").replace(/^statement\..*/, "statement");
    const camelId = base.split(/[-._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
    const meaning = i18n["fail" + camelId];
    return meaning ? `${meaning} ${detail}` : text;
  }

  function setupPage() {
    const form = document.getElementById("verify-form");
    if (!form) return;
    const i18n = document.getElementById("verify-i18n").dataset;
    const out = document.getElementById("verify-output");
    const list = document.getElementById("verify-results");
    const summary = document.getElementById("verify-summary");
    const todo = document.getElementById("verify-todo");
    const notes = document.getElementById("verify-notes");
    const drop = document.getElementById("drop-zone");
    const publicHost = form.dataset.publicHost || "";
    let dropped = null;

    const statusWord = { PASS: i18n.pass, FAIL: i18n.fail, WARN: i18n.warn, SKIP: i18n.skip };
    const statusClass = { PASS: "ok", FAIL: "bad", WARN: "warn", SKIP: "muted" };
    const camel = (id) => id.split(/[-._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");

    // A message in the page's language (sayIn).
    const say = (m, c = null) => sayIn(m, c, i18n);

    function labelOf(check) {
      const base = check.replace(/^previous\./, "").replace(/^statement\..*/, "statement");
      return i18n["check" + camel(base)] || check;
    }

    function render(report, extraNotes) {
      list.replaceChildren();
      const lines = report.inputErrors.map((m) => ({ check: "input", status: FAIL, message: m, msg: m })).concat(report.checks);
      for (const c of lines) {
        const li = document.createElement("li");
        li.className = `check check-${c.status.toLowerCase()} ${statusClass[c.status]}`;
        li.dataset.check = c.check;
        li.dataset.status = c.status;
        const badge = document.createElement("span");
        badge.className = "check-status";
        badge.textContent = statusWord[c.status] || c.status;
        const title = document.createElement("span");
        title.className = "check-title";
        title.textContent = `${labelOf(c.check)} `;
        const code = document.createElement("code");
        code.textContent = c.check;
        const msg = document.createElement("span");
        msg.className = "check-message";
        msg.textContent = say(c.msg, c);
        li.append(badge, " ", title, code, ": ", msg);
        list.append(li);
      }
      const verdict = report.verdict;
      const code = report.exitCode;
      summary.className = `verify-summary ${verdict === "verified" ? "ok" : verdict === "partly_checked" ? "warn" : "bad"}`;
      summary.dataset.exitCode = String(code);
      summary.dataset.verdict = verdict;
      summary.textContent = verdict === "verified" ? i18n.verified
        : verdict === "partly_checked" ? i18n.partly.replace("%(n)s", String(report.incomplete.length))
        : code === 2 ? i18n.unreadable : i18n.notVerified.replace("%(n)s", String(report.failed.length));
      // What was not checked, why, and the one thing that completes it.
      todo.replaceChildren();
      if (verdict === "partly_checked") {
        for (const c of report.incomplete) {
          const li = document.createElement("li");
          li.dataset.check = c.check;
          const why = document.createElement("span");
          why.textContent = `${labelOf(c.check)}: ${say(c.msg, c)}`;
          li.append(why);
          if (c.actionMsg) {
            const act = document.createElement("strong");
            act.className = "verify-action";
            act.textContent = ` ${i18n.todo} ${say(c.actionMsg)}`;
            li.append(act);
          }
          todo.append(li);
        }
      }
      todo.hidden = !todo.children.length;
      // Every check, folded when all passed (the verdict says it), open otherwise.
      const details = list.closest("details");
      if (details) details.open = verdict !== "verified";
      notes.replaceChildren(...extraNotes.map((t) => Object.assign(document.createElement("p"), { textContent: t })));
      notes.hidden = !extraNotes.length;
      out.hidden = false;
      out.scrollIntoView({ block: "start" });
      document.body.dataset.verifyState = "done";
    }

    async function collect() {
      const docs = {};
      const errors = [];
      if (dropped) {
        const parsed = [];
        for (const f of dropped) {
          try {
            parsed.push(await readFile(f, "file"));
          } catch (e) {
            errors.push(describe(e));
          }
        }
        Object.assign(docs, classify(parsed));
      }
      for (const [id, what] of [["bundle-file", "bundle"], ["previous-file", "previous"], ["receipt-file", "receipt"]]) {
        const input = document.getElementById(id);
        if (input && input.files && input.files[0]) {
          try {
            docs[what] = await readFile(input.files[0], what);
          } catch (e) {
            errors.push(describe(e));
          }
        }
      }
      return { docs, errors };
    }

    // Show a document fetched from this site in its file field, as if the visitor had chosen it.
    function showInField(id, text, name) {
      const input = document.getElementById(id);
      try {
        const dt = new DataTransfer();
        dt.items.add(new File([text], name, { type: "application/json" }));
        input.files = dt.files;
      } catch (e) {
        /* an old browser: the field stays empty, the note below says what was loaded */
      }
    }

    async function fetchText(url) {
      const resp = await fetch(url, { credentials: "omit" });
      if (!resp.ok) throw new InputError(M("input_http", { what: url, status: resp.status }, `${url}: HTTP ${resp.status}`));
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(await resp.arrayBuffer());
    }

    // A bundle of this site (its origin names this site's public host): fetch what completes the
    // check from here — the organisation's key and the previous report — and say so.
    async function complete(docs, extraNotes) {
      const b = docs.bundle !== undefined ? docs.bundle : docs.receipt;
      if (!isObj(b) || !publicHost) return;
      const origin = claimedOrigin(b);
      const book = bookOfOrigin(origin);
      if (book === null || origin !== `${publicHost}/commons-ledger/${book}`) return;
      const keyInput = document.getElementById("key-input");
      // A key that came with the link from this site's report page: say whose it is and show
      // its fingerprint, to compare with the one posted at the community office.
      const given = keyInput.value.trim();
      if (given && given === keyInput.defaultValue.trim() && given.startsWith(`${origin}+`)) {
        try {
          const raw = b64decode(given.split("+").slice(2).join("+"), "key").slice(1);
          if (raw.length === 32) extraNotes.push(i18n.keyFetched.replace("%(fp)s", groupedHex(hex(await sha256(raw)))));
        } catch (e) {
          /* not a verifier key: the key check says what is wrong */
        }
      }
      if (!given) {
        try {
          const info = JSON.parse(await fetchText(`/api/v1/public/books/${book}/checkpoints`));
          const pk = info.public_key;
          const raw = b64decode(pk.ed25519, "key");
          if (pk.name === origin && raw.length === 32) {
            keyInput.value = `${pk.name}+${hex(await keyId(pk.name, raw))}+${b64encode(concat(Uint8Array.of(1), raw))}`;
            extraNotes.push(i18n.keyFetched.replace("%(fp)s", groupedHex(hex(await sha256(raw)))));
          }
        } catch (e) {
          /* no key published here: the key check says what to do */
        }
      }
      const prev = docs.bundle !== undefined && isObj(docs.bundle.previous) ? docs.bundle.previous : null;
      if (prev && docs.previous === undefined && isStr(prev.period_end)) {
        try {
          const reports = JSON.parse(await fetchText(`/api/v1/public/books/${book}/reports`));
          const r = Array.isArray(reports) ? reports.find((x) => x.period_end === prev.period_end) : null;
          if (r && isStr(r.bundle_url) && r.bundle_url.startsWith("/")) {
            const text = await fetchText(r.bundle_url);
            docs.previous = parseJsonText(text, fileWhat("previous", r.bundle_url));
            showInField("previous-file", text, r.bundle_url.split("/").pop() === "bundle.json" ? `report-${r.id}.json` : r.bundle_url.split("/").pop());
            extraNotes.push(i18n.previousFetched.replace("%(end)s", prev.period_end));
          }
        } catch (e) {
          /* not found here: the opening-balances check says what to add */
        }
      }
    }

    async function run(docs, errors) {
      document.body.dataset.verifyState = "running";
      summary.className = "verify-summary muted";
      summary.textContent = i18n.running;
      out.hidden = false;
      const extraNotes = [];
      let report;
      if (errors.length) {
        report = new Report();
        report.inputErrors.push(...errors);
      } else {
        try {
          await complete(docs, extraNotes);
          report = await verifyDocuments(docs, document.getElementById("key-input").value);
        } catch (e) {
          report = new Report();
          report.add("verifier", FAIL, describe(e));
        }
      }
      render(report, extraNotes);
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const { docs, errors } = await collect();
      await run(docs, errors);
    });

    if (drop) {
      ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (ev) => {
        ev.preventDefault();
        drop.classList.add("drag");
      }));
      ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("drag")));
      drop.addEventListener("drop", (ev) => {
        ev.preventDefault();
        dropped = Array.from(ev.dataTransfer.files || []);
        drop.textContent = dropped.map((f) => f.name).join(", ") || drop.textContent;
      });
    }

    // /verify?bundle=/same/site/path.json: fetch and check it at once (the report pages link here).
    const url = form.dataset.bundleUrl;
    if (url) {
      (async () => {
        try {
          const text = await fetchText(url);
          const bundle = parseJsonText(text, fileWhat("bundle", url));
          showInField("bundle-file", text, url.split("/").pop() || "bundle.json");
          await run({ bundle }, []);
        } catch (e) {
          await run({}, [describe(e)]);
        }
      })();
    }
    document.body.dataset.verifyState = "ready";
  }

  // The C2SP verifier key <name>+<key id hex>+<base64(0x01 ‖ key)> for a published key, and its
  // fingerprint (grouped SHA-256 hex), as the organisation's page shows them.
  async function verifierKey(name, ed25519B64) {
    const raw = b64decode(ed25519B64, "key");
    if (raw.length !== 32) throw new InputError(M("note_key_length", { detail: "the published key is not an Ed25519 key" }, "the published key is not an Ed25519 key"));
    return {
      text: `${name}+${hex(await keyId(name, raw))}+${b64encode(concat(Uint8Array.of(1), raw))}`,
      fingerprint: groupedHex(hex(await sha256(raw))),
    };
  }

  global.CommonsVerify = { verifyDocuments, yuan, classify, parseJsonText, jcs, options, verifyInclusion, verifyConsistency, foldLog, verifyNote, parseCheckpoint, b64encode, verifierKey, claimedOrigin, bookOfOrigin, Msg, explain, say: sayIn };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupPage);
  else setupPage();
})(window);
