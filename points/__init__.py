# SPDX-License-Identifier: AGPL-3.0-or-later
"""Points (积分制): basic and service points in double entry, redemption, expiry, exchange."""
