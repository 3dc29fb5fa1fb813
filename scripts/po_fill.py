"""Fill msgstr values of the zh_Hans_CN catalog from a {msgid: msgstr} JSON file (a translator's aid).

Usage: python scripts/po_fill.py translations.json

Fills entries whose msgstr is empty or marked fuzzy (the fuzzy flag is cleared). For a plural
entry the key is the singular msgid; the value is one string (used for every plural form, as
zh has nplurals=1) or a list with one string per form. A translation whose placeholders
(%(name)s, %(n)d, %s …) differ from its msgid's is refused and reported.
"""

import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def _empty(msg) -> bool:
    if isinstance(msg.string, (tuple, list)):
        return not all(msg.string)
    return not msg.string


def main(path: str) -> None:
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_Hans_CN")
    nplurals = catalog.num_plurals
    filled, refused = 0, []
    for msg in catalog:
        if not msg.id or not (_empty(msg) or msg.fuzzy):
            continue
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        if key not in table:
            continue
        value = table[key]
        if isinstance(msg.id, tuple):
            forms = [value] * nplurals if isinstance(value, str) else list(value)
            wanted = set(_placeholders(msg.id[0])) | set(_placeholders(msg.id[1]))
            if len(forms) != nplurals or any(set(_placeholders(s)) - wanted for s in forms):
                refused.append(key)
                continue
            msg.string = tuple(forms)
        else:
            if _placeholders(value) != _placeholders(msg.id):
                refused.append(key)
                continue
            msg.string = value
        msg.flags.discard("fuzzy")
        filled += 1
    with PO.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=True, omit_header=False)
    missing = [m.id for m in catalog if m.id and (_empty(m) or m.fuzzy)]
    print(f"filled {filled}; still untranslated or fuzzy: {len(missing)}")
    for m in missing:
        print("  ", m)
    for k in refused:
        print("   placeholders differ, not filled:", k)


if __name__ == "__main__":
    main(sys.argv[1])
