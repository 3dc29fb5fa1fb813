// SPDX-License-Identifier: AGPL-3.0-or-later
// Ed25519 signature verification (RFC 8032 §5.1.7) in plain JavaScript with BigInt, for
// browsers whose WebCrypto has no Ed25519 yet. verify.js prefers WebCrypto and uses this only
// as a fallback. Verification only: nothing secret is ever handled here, so constant time does
// not matter. SHA-512 comes from WebCrypto, which every browser with BigInt has.
//
// Like OpenSSL (which the Python verifier uses through `cryptography`), the check is the
// cofactorless [S]B − [k]A, compared by encoding with the signature's R, and S must be < L.
(function (global) {
  "use strict";

  const P = 2n ** 255n - 19n;
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;

  function mod(a, m = P) {
    const r = a % m;
    return r >= 0n ? r : r + m;
  }

  function pow(base, exp, m = P) {
    let r = 1n;
    let b = mod(base, m);
    let e = exp;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % m;
      b = (b * b) % m;
      e >>= 1n;
    }
    return r;
  }

  const inv = (a) => pow(a, P - 2n);
  const D = mod(-121665n * inv(121666n));
  const D2 = mod(2n * D);
  const SQRT_M1 = pow(2n, (P - 1n) / 4n);

  function fromLE(bytes) {
    let x = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]);
    return x;
  }

  function toLE(x, n) {
    const out = new Uint8Array(n);
    let v = x;
    for (let i = 0; i < n; i++) {
      out[i] = Number(v & 255n);
      v >>= 8n;
    }
    return out;
  }

  // x from y and the sign bit (RFC 8032 §5.1.3); null when y is not on the curve.
  function recoverX(y, sign) {
    if (y >= P) return null;
    const y2 = mod(y * y);
    const u = mod(y2 - 1n);
    const v = mod(D * y2 + 1n);
    let x = mod(u * pow(v, 3n) * pow(mod(u * pow(v, 7n)), (P - 5n) / 8n));
    const vx2 = mod(v * x * x);
    if (vx2 === u) {
      // x is a square root
    } else if (vx2 === mod(-u)) {
      x = mod(x * SQRT_M1);
    } else {
      return null;
    }
    if (x === 0n && sign === 1) return null;
    if (Number(x & 1n) !== sign) x = mod(-x);
    return x;
  }

  function decodePoint(bytes) {
    if (bytes.length !== 32) return null;
    const b = bytes.slice();
    const sign = b[31] >> 7;
    b[31] &= 0x7f;
    const y = fromLE(b);
    const x = recoverX(y, sign);
    if (x === null) return null;
    return [x, y, 1n, mod(x * y)];
  }

  function encodePoint(p) {
    const zi = inv(p[2]);
    const x = mod(p[0] * zi);
    const y = mod(p[1] * zi);
    const out = toLE(y, 32);
    out[31] |= Number(x & 1n) << 7;
    return out;
  }

  // Extended coordinates, RFC 8032 §5.1.4 (unified: also doubles).
  function add(p, q) {
    const A = mod((p[1] - p[0]) * (q[1] - q[0]));
    const B = mod((p[1] + p[0]) * (q[1] + q[0]));
    const C = mod(p[3] * D2 * q[3]);
    const Dd = mod(p[2] * 2n * q[2]);
    const E = B - A;
    const F = Dd - C;
    const G = Dd + C;
    const H = B + A;
    return [mod(E * F), mod(G * H), mod(F * G), mod(E * H)];
  }

  function mul(s, p) {
    let r = [0n, 1n, 1n, 0n];
    let q = p;
    let k = s;
    while (k > 0n) {
      if (k & 1n) r = add(r, q);
      q = add(q, q);
      k >>= 1n;
    }
    return r;
  }

  const BY = mod(4n * inv(5n));
  const BX = recoverX(BY, 0);
  const BASE = [BX, BY, 1n, mod(BX * BY)];

  async function verify(publicKey, message, signature) {
    const pub = new Uint8Array(publicKey);
    const sig = new Uint8Array(signature);
    const msg = new Uint8Array(message);
    if (pub.length !== 32 || sig.length !== 64) return false;
    const A = decodePoint(pub);
    if (A === null) return false;
    const S = fromLE(sig.subarray(32));
    if (S >= L) return false;
    const data = new Uint8Array(64 + msg.length);
    data.set(sig.subarray(0, 32), 0);
    data.set(pub, 32);
    data.set(msg, 64);
    const h = new Uint8Array(await global.crypto.subtle.digest("SHA-512", data));
    const k = mod(fromLE(h), L);
    const negA = [mod(-A[0]), A[1], A[2], mod(-A[3])];
    const r = encodePoint(add(mul(S, BASE), mul(k, negA)));
    for (let i = 0; i < 32; i++) if (r[i] !== sig[i]) return false;
    return true;
  }

  global.CommonsEd25519 = { verify };
})(window);
