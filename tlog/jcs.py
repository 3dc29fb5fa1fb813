# SPDX-License-Identifier: AGPL-3.0-or-later
"""RFC 8785 JSON Canonicalization Scheme (JCS) for the values our log records use.

The server writes leaves with the ``rfc8785`` package; the standalone verifier may use only
the standard library and ``cryptography``, so it carries this small re-implementation. It
covers exactly the JSON types a public record, a private-fields list or a receipt contains:
objects with string keys, arrays, strings, integers, booleans and null. Floats are refused
rather than half-supported (RFC 8785 §3.2.2.3 needs the ECMAScript number printer, and no
record has a float: money is integer minor units). The tests compare this module with the
``rfc8785`` package on many random records.

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


def dumps(value: object) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``.

    Raises :class:`CanonicalizationError` for anything outside the supported subset.
    """
    out: list[str] = []
    try:
        _write(value, out)
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply") from None
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalizationError("string contains a lone surrogate (not Unicode text)") from None
