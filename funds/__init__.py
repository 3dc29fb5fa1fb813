# SPDX-License-Identifier: AGPL-3.0-or-later
"""Community funds: micro-funds, council resolutions, five-step projects, public finance."""
