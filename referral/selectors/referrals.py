"""Referral reads, decided by the visibility rules in ``referral.selectors.access``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, NotFound
from referral import crypto, reasons
from referral.models import (
    EndedOffer,
    Notification,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOffer,
)
from referral.permissions import permission_id
from referral.selectors.access import (
    coordinated_task_force_ids,
    membership_of,
    referral_grants,
    referral_visible_q,
)


@dataclass(frozen=True)
class ReferralFilters:
    status: str | None = None
    direction: str | None = None  # "sent" | "received"
    pathway: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    person: uuid.UUID | None = None


def _narrowing(user, filters: ReferralFilters) -> dict[str, object]:
    """The list filters as lookups on the referral's own columns (they only ever narrow what
    ``referral_visible_q`` allows)."""
    lookups: dict[str, object] = {}
    membership = membership_of(user)
    if filters.direction == "sent" and membership:
        lookups["sender_organization_id"] = membership.organization_id
    if filters.status:
        lookups["status"] = filters.status
    if filters.pathway:
        lookups["pathway"] = filters.pathway
    if filters.since:
        lookups["created_at__gte"] = filters.since
    if filters.until:
        lookups["created_at__lt"] = filters.until
    if filters.person:
        lookups["person_id"] = filters.person
    return lookups


def _received_q(user, filters: ReferralFilters) -> Q:
    """``direction=received``: the referrals the user's organisation receives, and those
    addressed to a stage that are offered to it and not taken yet."""
    membership = membership_of(user)
    if filters.direction != "received" or membership is None:
        return Q()
    offered = ReferralOffer.objects.filter(
        referral_id=OuterRef("pk"), organization_id=membership.organization_id
    )
    return Q(receiving_organization_id=membership.organization_id) | Q(
        Exists(offered), receiving_organization__isnull=True
    )


def referral_list(*, user, filters: ReferralFilters | None = None) -> QuerySet[Referral]:
    """The referrals the user may see, newest first.

    For a member the list is their organisation's ``view_referral`` grant rows, read along
    the grant index (group, permission, referral_created_at, referral) that gives the order:
    one index range, stopped after the page, whatever the size of the table. (group,
    permission, referral) is unique, so the join gives each referral once. A coordinator
    sees their task forces' referrals as well, which have no grant to read: that list walks
    the referrals' own created_at index. A member's ``direction=received`` is the referrals'
    side too, with the view grant as an EXISTS probe: ``CountedReferrals`` reads its pages
    along the receiving grants (``_received_grants``) and gives only the page's rows to it."""
    filters = filters or ReferralFilters()
    lookups = _narrowing(user, filters)
    referrals = Referral.objects.select_related(
        "to_service", "sender_organization", "receiving_organization", "person"
    )
    membership = membership_of(user)
    if membership is None:
        return referrals.none()
    if coordinated_task_force_ids(user) or filters.direction == "received":
        return referrals.filter(
            referral_visible_q(user), _received_q(user, filters), **lookups
        ).order_by("-created_at", "-id")
    grant = {
        "referralgroupobjectpermission__group_id": membership.organization.group_id,
        "referralgroupobjectpermission__permission_id": permission_id(Referral, "view_referral"),
    }
    if "status" in lookups:  # the grant's copy of the status: one range of its status index
        grant["referralgroupobjectpermission__referral_status"] = lookups.pop("status")
    return referrals.filter(_received_q(user, filters), **grant, **lookups).order_by(
        "-referralgroupobjectpermission__referral_created_at",
        "-referralgroupobjectpermission__content_object_id",
    )


def _received_grants(user, filters: ReferralFilters):
    """For a member's ``direction=received`` (and at most a status), the grant rows the list
    is read along, newest first; None otherwise.

    They are the organisation's ``transition_referral`` grants, which ``referral.permissions``
    gives, with ``view_referral`` in the same statement, exactly the receiving organisation
    and, while a referral to a stage is open, the organisations it is offered to (withdrawn
    with their view grants when one takes it or it closes), never the sender as such: the
    referrals ``_received_q`` describes, as one range of the grant index, where reading them
    along the view grants joined every referral the organisation sees (and the planner,
    misjudging the OR of ``_received_q``, sorted all of them for a page)."""
    narrowing = _narrowing(user, filters)
    narrowing.pop("status", None)
    if filters.direction != "received" or narrowing or coordinated_task_force_ids(user):
        return None
    if membership_of(user) is None:
        return None
    grants = referral_grants(user, codename="transition_referral")
    if filters.status:
        grants = grants.filter(referral_status=filters.status)
    return grants.order_by("-referral_created_at", "-content_object_id")


def referral_count(*, user, filters: ReferralFilters | None = None) -> int:
    """How many referrals ``referral_list`` gives, counted the cheap way where that is exact.

    For anyone but a coordinator a referral is visible exactly when the user's
    organisation group holds a ``view_referral`` grant on it, and (group, permission,
    content_object) is unique, so an unfiltered count is the number of those grant rows: one
    index range, where counting the referrals probed or hashed every one of them; by status,
    a range of the grants' status index (the grant rows keep the referral's status);
    ``direction=received``, the same of the ``transition_referral`` grants
    (``_received_grants``). Other filters, or a coordinator's task forces (visible by
    organisation, with no grant to count), are counted on the list itself."""
    filters = filters or ReferralFilters()
    narrowing = _narrowing(user, filters)
    status = narrowing.pop("status", None)
    received = _received_grants(user, filters)
    if received is not None:
        return received.count()
    if narrowing or filters.direction or coordinated_task_force_ids(user):
        return referral_list(user=user, filters=filters).count()
    grants = referral_grants(user)
    return (grants.filter(referral_status=status) if status else grants).count()


class CountedReferrals:
    """The list as a paginator reads it (Django's takes any sliceable object with a
    ``count()``): rows from ``referral_list`` (a received page through its grant rows,
    ``_received_grants``), the total from ``referral_count``."""

    def __init__(self, *, user, filters: ReferralFilters | None = None) -> None:
        self.user, self.filters = user, filters

    def count(self) -> int:
        return referral_count(user=self.user, filters=self.filters)

    def __getitem__(self, index):
        referrals = referral_list(user=self.user, filters=self.filters)
        grants = _received_grants(self.user, self.filters or ReferralFilters())
        if grants is None or not isinstance(index, slice):
            return referrals[index]
        # the page of grant rows (an index range, stopped after the page), then those of its
        # referrals the list's own conditions give: the planner never weighs the whole list
        return referrals.filter(pk__in=grants[index].values("content_object_id"))


def referral_get(*, user, referral_id: uuid.UUID) -> Referral:
    """The referral, or 404 alike for missing and forbidden."""
    referral = (
        Referral.objects.filter(referral_visible_q(user), pk=referral_id)
        .select_related("to_service", "sender_organization", "receiving_organization", "person")
        .first()
    )
    if referral is None:
        raise NotFound()
    return referral


class OfferEnded(Conflict):
    """409 to a candidate whose offer of a stage referral ended: ``referral_taken`` or
    ``offer_closed``."""


def ended_offer_conflict(*, referral_id, organization_id) -> OfferEnded | None:
    """The answer to an organisation that was offered this referral (addressed to its
    stage) and lost the offer: 409, another service took it or it closed first. Nothing
    else of the referral is said; to anyone else it stays a 404."""
    taken = (
        EndedOffer.objects.filter(referral_id=referral_id, organization_id=organization_id)
        .values_list("taken", flat=True)
        .first()
    )
    if taken is None:
        return None
    if taken:
        return OfferEnded(
            _("Another service has already taken this referral."), code="referral_taken"
        )
    return OfferEnded(
        _("This referral is no longer offered: it closed before any service took it."),
        code="offer_closed",
    )


def referral_for_transition(*, user, referral_id: uuid.UUID) -> Referral:
    """The referral a member is about to move: as ``referral_get``, except that a candidate
    whose offer ended (another service took it a moment earlier, say) hears 409, not 404."""
    try:
        return referral_get(user=user, referral_id=referral_id)
    except NotFound:
        membership = membership_of(user)
        if membership is not None:
            ended = ended_offer_conflict(
                referral_id=referral_id, organization_id=membership.organization_id
            )
            if ended is not None:
                raise ended from None
        raise


def relation_to(*, user, referral: Referral) -> set[str]:
    """How the user stands to this referral: sender, receiver, coordinator (one or more)."""
    membership = membership_of(user)
    relations: set[str] = set()
    if membership is None:
        return relations
    if membership.organization_id == referral.sender_organization_id:
        relations.add("sender")
    if membership.organization_id == referral.receiving_organization_id:
        relations.add("receiver")
    if referral.task_force_id in coordinated_task_force_ids(user):
        relations.add("coordinator")
    if referral.is_open_offer and "sender" not in relations:
        offered = ReferralOffer.objects.filter(
            referral_id=referral.pk, organization_id=membership.organization_id
        ).exists()
        if offered:
            relations.add("candidate")  # may take it by accepting
    return relations


def _open(*, person, organization_id, context: str, key_id: str, blob) -> str | None:
    """Sealed free text in clear; None when there is none or it cannot be read (erased)."""
    try:
        return crypto.text_open(
            person=person,
            organization_id=organization_id,
            context=context,
            key_id=key_id,
            blob=blob,
        )
    except crypto.Unreadable:
        return None


def referral_reason_text(referral: Referral) -> str | None:
    """The sender's reason in clear, whoever asks: for services and the selectors below."""
    return _open(
        person=referral.person,
        organization_id=referral.sender_organization_id,
        context=crypto.referral_reason_context(referral.pk),
        key_id=referral.reason_key_id,
        blob=referral.reason_enc,
    )


def _own_organization_id(user) -> uuid.UUID | None:
    membership = membership_of(user)
    return membership.organization_id if membership else None


def referral_reason(*, user, referral: Referral) -> str | None:
    """The referral's own reason (the sender's free text): for the sending and the receiving
    organisation; None for anyone else, coordinators included."""
    own = _own_organization_id(user)
    if own is None or own not in (
        referral.sender_organization_id,
        referral.receiving_organization_id,
    ):
        return None
    return referral_reason_text(referral)


def event_note_readers(*, event: ReferralEvent, referral: Referral) -> set[uuid.UUID]:
    """Which organisations read an event's free-text note (DESIGN.md, "Who may see what"):
    written by the receiving side, the receiving organisation only; by the sender (a
    withdrawal note), the sender and the receiver; by the system, nobody. Never coordinators
    as such."""
    if event.organization_id is None:
        return set()
    if event.organization_id == referral.receiving_organization_id:
        return {referral.receiving_organization_id}
    if event.organization_id == referral.sender_organization_id:
        return {referral.sender_organization_id, referral.receiving_organization_id}
    return set()


@dataclass(frozen=True)
class EventView:
    """One step of a referral as a reader sees it: status, time and coded reason for every
    party; ``reason`` (the note) only where ``event_note_readers`` allows, else None."""

    from_status: str
    to_status: str
    reason_code: str
    reason_label: str
    outcome: str
    expected_start: date | None
    reason: str | None
    created_at: datetime
    organization: object | None
    organization_id: uuid.UUID | None


def referral_event_views(*, user, referral: Referral) -> list[EventView]:
    """The steps of a referral ``referral_get`` gave this user, oldest first."""
    own = _own_organization_id(user)
    views = []
    events = referral.events.select_related("organization").order_by("created_at", "id")
    for event in events:
        note = None
        if event.reason_enc is not None and own in event_note_readers(
            event=event, referral=referral
        ):
            note = _open(
                person=referral.person,
                organization_id=event.organization_id,
                context=crypto.event_reason_context(event.pk),
                key_id=event.reason_key_id,
                blob=event.reason_enc,
            )
        views.append(
            EventView(
                from_status=event.from_status,
                to_status=event.to_status,
                reason_code=event.reason_code,
                reason_label=reasons.reason_label(event.to_status, event.reason_code),
                outcome=event.outcome,
                expected_start=event.expected_start,
                reason=note,
                created_at=event.created_at,
                organization=event.organization,
                organization_id=event.organization_id,
            )
        )
    return views


def referral_events(*, user, referral_id: uuid.UUID) -> list[EventView]:
    referral = referral_get(user=user, referral_id=referral_id)
    return referral_event_views(user=user, referral=referral)


def referral_notes(*, user, referral_id: uuid.UUID) -> list[dict]:
    """Clinical and engagement notes: the receiving organisation only (404 for others)."""
    referral = Referral.objects.filter(
        referral_visible_q(user, codename="view_referral_notes"), pk=referral_id
    ).first()
    if referral is None:
        raise NotFound()
    person = referral.person
    data_key = None
    if person is not None and person.wrapped_data_key is not None:
        data_key = crypto.data_key_unwrap(
            person_id=str(person.pk), key_id=person.data_key_id, wrapped=person.wrapped_data_key
        )
    notes = []
    for note in ReferralNote.objects.filter(referral=referral).select_related("author"):
        try:
            if note.key_id == crypto.PERSON_KEY:
                if data_key is None:
                    raise crypto.Unreadable("erased")
                text = crypto.field_decrypt(
                    data_key=data_key,
                    person_id=str(person.pk),
                    field=f"referral-note:{note.pk}",
                    blob=note.text_enc,
                )
            else:
                text = crypto.master_decrypt(
                    key_id=note.key_id, blob=note.text_enc, context=f"referral-note:{note.pk}"
                )
            erased = False
        except crypto.Unreadable:
            text, erased = None, True
        notes.append(
            {
                "id": note.pk,
                "author": note.author.get_username() if note.author else None,
                "created_at": note.created_at,
                "text": text,
                "erased": erased,
            }
        )
    return notes


def notification_list(*, user) -> QuerySet[Notification]:
    membership = membership_of(user)
    if membership is None:
        return Notification.objects.none()
    return Notification.objects.filter(organization_id=membership.organization_id).order_by(
        "-created_at", "-id"
    )


def notification_unread_count(*, user) -> int:
    """How many of the organisation's notifications nobody has marked read."""
    return notification_list(user=user).filter(read_at__isnull=True).count()


CHAIN_DEPTH = 10  # forwards followed from one referral; a chain is a handful in practice


def referral_forward_chains(*, referrals) -> dict[uuid.UUID, list[Referral]]:
    """For referrals the caller may already see, what became of each after a forward: the
    referrals made from it, one stage after another. Closed loop, status only: the rows
    carry the next service and its status, nothing of the person or the receiver's reasons,
    and a page shows them without a link (the reader may not see the referral itself)."""
    chains: dict[uuid.UUID, list[Referral]] = {}
    root_of = {r.pk: r.pk for r in referrals if r.status == "forwarded"}
    frontier = list(root_of)
    for _step in range(CHAIN_DEPTH):
        if not frontier:
            break
        children = (
            Referral.objects.filter(parent_id__in=frontier)
            .select_related("to_service")
            .only("id", "parent_id", "status", "to_service__name", "created_at")
            .order_by("created_at", "id")
        )
        frontier = []
        for child in children:
            root = root_of[child.parent_id]
            chains.setdefault(root, []).append(child)
            if child.status == "forwarded":
                root_of[child.pk] = root
                frontier.append(child.pk)
    return chains


def referral_is_visible(*, user, referral_id) -> bool:
    return Referral.objects.filter(referral_visible_q(user), pk=referral_id).exists()
