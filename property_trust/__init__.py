# SPDX-License-Identifier: AGPL-3.0-or-later
"""Trust-model property fees (信托制物业): bills, arrears, public revenue, votes, supervision."""
