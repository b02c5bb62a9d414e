"""The referral state machine, in one place (DESIGN.md, "Referral").

sent -> accepted -> engaged -> completed
  |        |          |-> disengaged (lost to follow-up)
  |        |          |-> forwarded
  |        |-> forwarded (a new referral to the next stage, linked as its child)
  |-> declined (coded reason required, ``referral.reasons``; the sender is told and can re-refer)
  |-> expired (no answer within the service's SLA; coordinators are alerted)
sent|accepted -> withdrawn (by the sender)
accepted -> waitlisted -> engaged   (waitlisted -> disengaged | withdrawn): accepted, waiting
  for a place, with the date the service expects to start (``expected_start``)
"""

from __future__ import annotations

from enum import Enum

from referral.models import ReferralStatus as S


class Side(Enum):
    """Who may take a transition."""

    RECEIVER = "receiver"  # the receiving organisation
    SENDER = "sender"  # the sending organisation
    SYSTEM = "system"  # background tasks only (SLA expiry)


TRANSITIONS: dict[tuple[str, str], Side] = {
    (S.SENT, S.ACCEPTED): Side.RECEIVER,
    (S.SENT, S.DECLINED): Side.RECEIVER,
    (S.SENT, S.EXPIRED): Side.SYSTEM,
    (S.SENT, S.WITHDRAWN): Side.SENDER,
    (S.ACCEPTED, S.ENGAGED): Side.RECEIVER,
    (S.ACCEPTED, S.FORWARDED): Side.RECEIVER,
    (S.ACCEPTED, S.WITHDRAWN): Side.SENDER,
    (S.ACCEPTED, S.WAITLISTED): Side.RECEIVER,
    (S.WAITLISTED, S.ENGAGED): Side.RECEIVER,
    (S.WAITLISTED, S.DISENGAGED): Side.RECEIVER,
    (S.WAITLISTED, S.WITHDRAWN): Side.SENDER,
    (S.ENGAGED, S.COMPLETED): Side.RECEIVER,
    (S.ENGAGED, S.DISENGAGED): Side.RECEIVER,
    (S.ENGAGED, S.FORWARDED): Side.RECEIVER,
}

OPEN = frozenset({S.SENT, S.ACCEPTED, S.WAITLISTED, S.ENGAGED})
CLOSED = frozenset(set(S) - OPEN)


def can_transition(from_status: str, to_status: str) -> bool:
    return (from_status, to_status) in TRANSITIONS


def side_for(from_status: str, to_status: str) -> Side | None:
    return TRANSITIONS.get((from_status, to_status))


def next_statuses(from_status: str) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == from_status]


def transitions_open_to(from_status: str, relations: set[str]) -> list[str]:
    """The statuses a referral may move to next by someone who stands to it as
    ``relations`` (any of "sender", "receiver", "coordinator", and "candidate": an organisation
    a referral to a stage is offered to, which may only take it by accepting)."""
    sides = {side for side in (Side.SENDER, Side.RECEIVER) if side.value in relations}
    moves = [to for to in next_statuses(from_status) if side_for(from_status, to) in sides]
    if "candidate" in relations and from_status == S.SENT:
        moves.append(S.ACCEPTED)  # a referral to a stage, taken by accepting it
    return moves
