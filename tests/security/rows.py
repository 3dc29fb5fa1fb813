"""The shape of one row of the authorization matrix (the rows are in authz_matrix.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLE_COLUMNS = "anon padm admin prep rev aud sup sec res"
OUTCOMES = {
    "O": "ok (2xx or 3xx)",
    "L": "login (401, or a redirect to the login page)",
    "F": "forbidden (403)",
    "N": "not found (404)",
    "V": "past authorization, refused as bad input or state (400, 405, 409, 413, 415, 422)",
}


@dataclass(frozen=True)
class Row:
    """``own``/``other``: one outcome letter per role, in ROLE_COLUMNS order, for the URL
    filled with the ids of the roles' own organisation (community A) and of another
    organisation in another community (B). Spaces are for the reader only.

    ``args`` fixes URL parts (an ``<any(…)>`` choice, a report name); ``body`` is sent as
    JSON to /api/ and as a form elsewhere (strings with ``{payer_id}`` etc. are filled with the
    side's ids; ``"@png"`` sends a small PNG file); ``query`` goes in the query string."""

    own: str
    other: str
    method: str
    rule: str
    args: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    why: str = ""

    def letters(self, scope: str) -> str:
        return (self.own if scope == "own" else self.other).replace(" ", "")
