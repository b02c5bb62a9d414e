"""Small cells: the rule every published flow count follows.

Every published count is either the string ``"<5"`` (a true count of 0 to 4) or the true count
rounded to the nearest multiple of 5 (5-7 -> 5, 8-12 -> 10, 13-17 -> 15, ...). Totals are
rounded from their own true values in the same way, never summed from published cells, so
cells need not add up to their total. Because every published number is a multiple of 5, any
sum or difference of published numbers (a total minus the other cells of a breakdown, in one
view or across views, periods, pathways or organisations) is a multiple of 5 too and can never
equal a true count of 1 to 4. Medians and 90th percentiles are published only for groups of at
least 5 (else null). The same rules hold for every user, coordinators included.
"""

from __future__ import annotations

SMALL_CELL = 5
ROUNDING_BASE = 5
SUPPRESSED = "<5"

SUPPRESSION_RULE = (
    'Every count is either "<5" (a true count of 0 to 4) or the true count rounded to the '
    "nearest multiple of 5; totals are rounded from their own true values, not summed from "
    "cells. All published numbers are multiples of 5, so no total minus other published cells, "
    "in any view, can give back a count of 1 to 4. Medians and 90th percentiles are given only "
    "for groups of at least 5 (else null)."
)


def published_count(true_count: int) -> int | str:
    """``"<5"`` for 0 to 4, else the count rounded to the nearest multiple of 5."""
    if true_count < SMALL_CELL:
        return SUPPRESSED
    return ROUNDING_BASE * ((true_count + ROUNDING_BASE // 2) // ROUNDING_BASE)
