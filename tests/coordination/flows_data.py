"""Referral journeys and contacts with chosen timings, for the flows, rollup and dashboard
tests (plain functions; the fixture that uses them is in this folder's conftest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from referral.models import Contact, Referral, ReferralEvent

DAY = 86400
HOUR = 3600


def journey(
    *,
    sender,
    service,
    pathway: str,
    at: datetime,
    steps: list[tuple[str, int]] = (),
    journey_seconds: int = 0,
    parent: Referral | None = None,
) -> Referral:
    """A referral made at ``at`` (its journey began ``journey_seconds`` before), then each
    ``(status, seconds after the previous step)``: rows as the referral services write them."""
    started = at - timedelta(seconds=journey_seconds)
    referral = Referral.objects.create(
        sender_organization=sender,
        to_service=service,
        receiving_organization=service.organization,
        stage=service.stage,
        pathway=pathway,
        status="sent",
        status_changed_at=at,
        sla_due_at=at + timedelta(days=2),
        journey_started_at=started,
        parent=parent,
    )
    events = [
        ReferralEvent(
            referral=referral,
            organization=sender,
            from_status="",
            to_status="sent",
            created_at=at,
            seconds_since_journey_start=journey_seconds,
        )
    ]
    status, when = "sent", at
    for to, seconds in steps:
        when = when + timedelta(seconds=seconds)
        events.append(
            ReferralEvent(
                referral=referral,
                organization=service.organization,
                from_status=status,
                to_status=to,
                created_at=when,
                seconds_in_previous=seconds,
                seconds_since_journey_start=int((when - started).total_seconds()),
            )
        )
        status = to
    ReferralEvent.objects.bulk_create(events)
    Referral.objects.filter(pk=referral.pk).update(status=status, status_changed_at=when)
    return referral


def contacts(*, organization, pathway: str, at: datetime, n: int) -> None:
    import uuid

    Contact.objects.bulk_create(
        Contact(
            client_uuid=uuid.uuid4(),
            organization=organization,
            occurred_at=at + timedelta(minutes=i),
            pathway=pathway,
            request_fingerprint="x",
        )
        for i in range(n)
    )


def period(days_ago: int = 30) -> dict[str, str]:
    today = datetime.now(tz=UTC).date()
    return {
        "since": (today - timedelta(days=days_ago)).isoformat(),
        "until": (today + timedelta(days=1)).isoformat(),
    }
