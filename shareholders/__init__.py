# SPDX-License-Identifier: AGPL-3.0-or-later
"""Shareholders: the register (股东名册), subscriptions, transfers with pre-emption, dividends."""
