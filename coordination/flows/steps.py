"""The steps a referral moves along, as the flows name them, and the true (unpublished)
counts per step: ``StepCell`` (a count with its duration histograms) and ``FlowCounts``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from coordination.flows.histograms import BUCKET_COUNT
from referral.models import ReferralStatus
from referral.workflow import TRANSITIONS
from services_directory.models import Stage

FORWARDED_IN = "forwarded"  # the from-step of a referral made by forwarding
TREATMENT = Stage.TREATMENT.value
ENGAGED = ReferralStatus.ENGAGED.value
SENT = ReferralStatus.SENT.value


# The steps in the order people move along a referral; the first two are "a referral made".
STEP_ORDER: tuple[tuple[str, str], ...] = (
    ("", SENT),
    (FORWARDED_IN, SENT),
    *TRANSITIONS.keys(),
)
OUTCOMES: tuple[str, ...] = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.WAITLISTED,
    ReferralStatus.ENGAGED,
    ReferralStatus.COMPLETED,
    ReferralStatus.DECLINED,
    ReferralStatus.EXPIRED,
    ReferralStatus.DISENGAGED,
    ReferralStatus.FORWARDED,
    ReferralStatus.WITHDRAWN,
)


FUNNEL_FIELDS = ("referrals", *OUTCOMES, "treatment_entries")


@dataclass
class StepCell:
    count: int = 0
    previous: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)
    journey: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)

    def add(self, count: int, previous: Sequence[int], journey: Sequence[int]) -> None:
        self.count += count
        for index, value in enumerate(previous):
            self.previous[index] += value
        for index, value in enumerate(journey):
            self.journey[index] += value


@dataclass
class FlowCounts:
    """True (unpublished) counts; never leaves the server as it is."""

    # (pathway, stage, from_step, to_status) -> cell
    steps: dict[tuple[str, str, str, str], StepCell] = field(
        default_factory=lambda: defaultdict(StepCell)
    )
    contacts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # month (first day) -> {"contacts"|"referrals"|"treatment_entries": n}
    monthly: dict[date, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    rolled_up_days: int = 0
    live_days: int = 0


def _series(to_status: str) -> str:
    return "referrals" if to_status == SENT else "treatment_entries"
