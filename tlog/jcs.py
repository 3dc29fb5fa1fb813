# SPDX-License-Identifier: AGPL-3.0-or-later
"""RFC 8785 JSON Canonicalization Scheme (JCS) for the values our log records use.

The one canonical-JSON encoder of the project: the ledger writes leaves, private fields and
commitments with it, and the standalone verifier (standard library and ``cryptography`` only)
checks them with it. It covers exactly the JSON types a public record, a private-fields list or a receipt contains:
objects with string keys, arrays, strings, integers, booleans and null. Floats are refused
rather than half-supported (RFC 8785 §3.2.2.3 needs the ECMAScript number printer, and no
record has a float: money is integer minor units). The tests compare this module with the
``rfc8785`` package (a test oracle only) on many random records.

Speed: :func:`dumps` first walks the value once with cheap checks (exact JSON types,
safe-range integers, string keys, all keys ASCII) and, when they pass, lets the C
``json`` encoder write it (``sort_keys``, ``ensure_ascii=False``, no whitespace). For ASCII
keys, code-point order is UTF-16 code-unit order, and the C encoder's escapes are exactly
ECMAScript's; lone surrogates are refused when the text is encoded to UTF-8. A value with a
non-ASCII key takes the exact slow path (:func:`_write`), which sorts by UTF-16 code units.

Rules implemented (RFC 8785 §3.2):

* object members sorted by their names' UTF-16 code units (§3.2.3), no whitespace;
* strings escaped as ECMAScript ``JSON.stringify`` does (§3.2.2.2): ``\\"``, ``\\\\``, the five
  short forms ``\\b \\t \\n \\f \\r``, other controls below U+0020 as ``\\u00xx`` (lower-case hex),
  everything else literal; lone surrogates are not Unicode text and are refused (I-JSON);
* integers in the IEEE-754 safe range ``|n| <= 2**53 - 1`` printed in decimal (outside it an
  ECMAScript reader would round them, so the ``rfc8785`` package refuses them and so do we);
* UTF-8 output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import cast

__all__ = ["MAX_SAFE_INTEGER", "CanonicalizationError", "dumps"]

MAX_SAFE_INTEGER = 2**53 - 1

_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update(
    {
        ord("\b"): "\\b",
        ord("\t"): "\\t",
        ord("\n"): "\\n",
        ord("\f"): "\\f",
        ord("\r"): "\\r",
        ord('"'): '\\"',
        ord("\\"): "\\\\",
    }
)


class CanonicalizationError(ValueError):
    """The value has no RFC 8785 form we produce (float, big integer, lone surrogate, ...)."""


def _string(s: str) -> str:
    return '"' + s.translate(_ESCAPES) + '"'


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare in the same order as the code-unit sequences.
    # surrogatepass lets a lone surrogate through here; encoding the output refuses it.
    return name.encode("utf-16-be", "surrogatepass")


def _write(value: object, out: list[str]) -> None:
    # Exact type checks: bool is an int subclass, and subclasses of str/int could print
    # themselves differently; a JSON parser never produces them.
    t = type(value)
    if t is str:
        out.append(_string(value))  # type: ignore[arg-type]
    elif t is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            raise CanonicalizationError(f"integer {value} is outside the JSON safe range ±(2^53−1)")
        out.append(str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is dict:
        items = value.items()  # type: ignore[attr-defined]
        for k, _ in items:
            if type(k) is not str:
                raise CanonicalizationError(f"object key {k!r} is not a string")
        out.append("{")
        first = True
        for k, v in sorted(items, key=lambda kv: _utf16_key(kv[0])):
            if not first:
                out.append(",")
            first = False
            out.append(_string(k))
            out.append(":")
            _write(v, out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        for i, v in enumerate(value):  # type: ignore[arg-type]
            if i:
                out.append(",")
            _write(v, out)
        out.append("]")
    elif t is float:
        raise CanonicalizationError("floats are not used in records (money is integer minor units)")
    else:
        raise CanonicalizationError(f"{t.__name__} is not a JSON value")


def _refuse(value: object) -> object:
    raise CanonicalizationError(f"{type(value).__name__} is not a JSON value")


def _make_encoder():
    """The C encoder, made once: ``json.dumps`` would build a new one on every call. Same
    settings as ``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    allow_nan=False)``; no circular-reference markers (``_plain`` bounds the depth)."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # no C accelerator: the pure-Python encoder, same output
        return json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
        ).encode
    encode = c_make_encoder(
        None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    return lambda value: "".join(encode(value, 0))


_encode = _make_encoder()


def _plain(value: object, depth: int = 0) -> bool:
    """True when the C encoder writes ``value`` exactly as RFC 8785 does; False when the slow
    path must decide (a non-ASCII key, or something it refuses with the reason)."""
    t = type(value)
    children: Iterable[object]
    # Exact types, not isinstance: a subclass takes the slow path. The casts only tell the
    # checker what the ``type(...) is`` tests established.
    if t is dict:
        mapping = cast("dict[object, object]", value)
        for k in mapping:
            if type(k) is not str or not k.isascii():
                return False
        children = mapping.values()
    elif t is list or t is tuple:
        children = cast("list[object] | tuple[object, ...]", value)
    else:
        return _plain_scalar(value)
    if depth > 200:
        return False
    for v in children:
        tv = type(v)
        if tv is str or v is None or tv is bool:
            continue
        if tv is int:
            if not -MAX_SAFE_INTEGER <= cast(int, v) <= MAX_SAFE_INTEGER:
                return False
        elif not _plain(v, depth + 1):
            return False
    return True


def _plain_scalar(value: object) -> bool:
    t = type(value)
    if t is str or value is None or t is bool:
        return True
    return t is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER  # type: ignore[operator]


def _slow(value: object) -> bytes:
    out: list[str] = []
    try:
        _write(value, out)
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply") from None
    return _utf8("".join(out))


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError("string contains a lone surrogate (not Unicode text)") from None


def dumps(value: object) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``.

    Raises :class:`CanonicalizationError` for anything outside the supported subset.
    """
    if _plain(value):
        return _utf8(_encode(value))
    return _slow(value)
