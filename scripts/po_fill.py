"""Fill msgstr values of the zh_Hans_CN catalog from a {msgid: msgstr} JSON file (a translator's aid).

Usage: python scripts/po_fill.py translations.json
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def main(path: str) -> None:
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_Hans_CN")
    filled = 0
    for msg in catalog:
        if msg.id and msg.id in table and not msg.string:
            msg.string = table[msg.id]
            msg.flags.discard("fuzzy")
            filled += 1
    with PO.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=True, omit_header=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"filled {filled}; still untranslated: {len(missing)}")
    for m in missing:
        print("  ", m)


if __name__ == "__main__":
    main(sys.argv[1])
