# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pure pieces of a verifiable log, at the bottom of the picture (docs/architecture.md).

RFC 9162 Merkle maths (``merkle``), RFC 8785 canonical JSON (``jcs``), C2SP signed notes
(``notes``) and the arithmetic of records and bundles (``bundle_math``). Standard library and
``cryptography`` only, and nothing of ours: the ledger writes its log with them, transparency
signs and publishes with them, and the standalone verifier ships them to check a report
without trusting the rest of the code base.
"""
