"""Authorization-matrix rows of the shareholders domain (see tests/security/authz_matrix.py)."""

from __future__ import annotations

from tests.security.rows import Row

# fmt: off
ROWS: list[Row] = [
]
# fmt: on
