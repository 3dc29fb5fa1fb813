# SPDX-License-Identifier: AGPL-3.0-or-later
"""The standalone verifier as one file: ``commons_verify.py``, built from the source.

``python -m transparency.verify`` works from the repository; a resident or a journalist gets
one file from the site instead. It holds the source text of the modules the verifier uses
(``tlog``'s four modules and ``transparency/verify.py``, read from this installation when the
file is asked for: one source, no second copy in the repository) and a loader that imports
them from that text. It runs on any Python 3.10+ with the ``cryptography`` package; nothing
else of ours and nothing of Flask's is in it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

FILENAME = "commons_verify.py"
ROOT = Path(__file__).resolve().parent.parent

# (module name, file): the verifier and what it imports, in import order.
MODULES = (
    ("tlog", "tlog/__init__.py"),
    ("tlog.jcs", "tlog/jcs.py"),
    ("tlog.merkle", "tlog/merkle.py"),
    ("tlog.notes", "tlog/notes.py"),
    ("tlog.bundle_math", "tlog/bundle_math.py"),
    ("transparency", None),  # an empty package: the server's transparency/ is not shipped
    ("transparency.verify", "transparency/verify.py"),
)

_LOADER = '''
import importlib.abc
import importlib.util
import sys


class _Embedded(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the modules above from their source text in this file."""

    def find_spec(self, name, path=None, target=None):
        if name not in SOURCES:
            return None
        package = name == "tlog" or name == "transparency"
        return importlib.util.spec_from_loader(name, self, is_package=package)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        if name in ("tlog", "transparency"):
            module.__path__ = []
        exec(compile(SOURCES[name], "<commons_verify.py: " + name + ">", "exec"), module.__dict__)


sys.meta_path.insert(0, _Embedded())

if __name__ == "__main__":
    from transparency.verify import main

    sys.argv[0] = "commons_verify.py"
    sys.exit(main())
'''


@functools.cache
def build() -> str:
    """The file's text (cached per process: the sources do not change while it runs)."""
    sources = {
        name: (ROOT / path).read_text(encoding="utf-8") if path else "" for name, path in MODULES
    }
    digest = hashlib.sha256(
        "".join(f"{n}\n{t}" for n, t in sources.items()).encode("utf-8")
    ).hexdigest()
    head = (
        "#!/usr/bin/env python3\n"
        "# SPDX-License-Identifier: AGPL-3.0-or-later\n"
        '"""Commons Ledger verifier (社区公账 核验工具): checks a disclosure report bundle and a\n'
        "receipt without trusting the website that published them.\n\n"
        "    pip install cryptography\n"
        "    python3 commons_verify.py BUNDLE.json [--previous PREVIOUS.json] [--receipt R.json]\n"
        "                              [--key VERIFIER_KEY] [--origin ORIGIN] [--json]\n\n"
        "Built from the Commons Ledger source (transparency/verify.py and tlog/); the modules'\n"
        f"source below has SHA-256 {digest}.\n"
        '"""\n\n'
        "SOURCES = {\n"
    )
    body = "".join(f"    {name!r}: {text!r},\n" for name, text in sources.items())
    return head + body + "}\n" + _LOADER
