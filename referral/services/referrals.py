"""Referral writes: make a referral, move it through the state machine, add engagement
notes. Each is one transaction with its audit event; notifications go into the outbox in
that transaction and leave after commit."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.sql import Select, insert
from referral import crypto, notices, reasons
from referral.fhir.subscriptions import subscriptions_notify
from referral.models import (
    Contact,
    Notification,
    Person,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOffer,
    ReferralStatus,
    Urgency,
)
from referral.permissions import (
    referral_grant,
    referral_grants_follow,
    referral_offer_grant,
    referral_offers_withdraw,
)
from referral.selectors.access import consent_covering, membership_of, person_visible_get
from referral.selectors.referrals import ended_offer_conflict, referral_reason_text
from referral.workflow import Side, next_statuses, side_for
from services_directory.models import Organization, Service, ServiceStatus, TaskForce


class MissingConsent(ValidationFailed):
    code = "consent_required"


def _actor_organization(actor) -> Organization:
    membership = membership_of(actor)
    if membership is None:
        raise NotFound(_("You are not a member of an organisation."))
    return membership.organization


def sla_due(*, service: Service, urgency: str, start: datetime) -> datetime:
    """An urgent referral has half the service's SLA."""
    hours = service.referral_sla_hours / (2 if urgency == Urgency.URGENT else 1)
    return start + timedelta(hours=hours)


def _has_identifying_data(person: Person) -> bool:
    return person.erased_at is None and any(
        getattr(person, f"{f}_enc") is not None
        for f in ("given_name", "family_name", "birth_date", "phone", "notes")
    )


@transaction.atomic
def referral_create(
    *,
    sender,
    service: Service,
    pathway: str,
    person: Person | None = None,
    reason: str = "",
    urgency: str = Urgency.ROUTINE,
    contact: Contact | None = None,
    client_uuid: uuid.UUID | None = None,
    if_no_consent: str = "anonymous",
    parent: Referral | None = None,
    task_force: TaskForce | int | None = None,
) -> tuple[Referral, bool]:
    """Refer a person (or nobody: an anonymous referral) to a service.

    Identifying data crosses to the receiving organisation only under an active consent
    covering that organisation or the service's stage. Without one the referral is made
    pseudonymous (``if_no_consent="anonymous"``) or refused (``"refuse"``).

    The referral belongs to the task force in which it is made: the one the sender's
    organisation shares with the service's (``task_force`` says which when they share more
    than one; a forward stays in its parent's when it can). None shared is a 400 naming
    ``to_service``.

    Returns ``(referral, created)``: a retry with the same ``client_uuid`` and the same
    content returns the first referral; different content is a conflict.
    """
    organization = _actor_organization(sender)
    if client_uuid is not None:
        existing = Referral.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return _replayed(existing, organization, service, pathway, person, reason, urgency)
    in_task_force = _task_force_for(
        organization=organization, service=service, wanted=task_force, parent=parent
    )
    if not service.classified:
        raise ValidationFailed(
            "This service has no stage yet: its organisation must classify it before it "
            "takes referrals.",
            errors={"to_service": ["Unclassified: no stage."]},
            code="service_unclassified",
        )
    if not service.accepting_referrals or service.status != ServiceStatus.ACTIVE:
        raise Conflict(
            _("This service does not accept referrals now."),
            errors={"to_service": [_("Not accepting referrals.")]},
            code="not_accepting",
        )
    if person is not None and person.erased_at is not None:
        raise ValidationFailed(_("This person was erased."), errors={"person": [_("Erased.")]})
    if contact is not None and contact.organization_id != organization.pk:
        raise ValidationFailed(_("Unknown contact."), errors={"contact": [_("Unknown contact.")]})

    now = timezone.now()
    receiving = service.organization
    if contact is not None:
        journey_started_at = contact.occurred_at
    elif parent is not None:
        journey_started_at = parent.journey_started_at
    else:
        journey_started_at = _first_contact_at(person) or now
    consent = None
    identified = False
    if person is not None and _has_identifying_data(person):
        if receiving.pk == person.organization_id:
            identified = True  # no disclosure: the data stays with the organisation holding it
        else:
            consent = consent_covering(
                person=person, organization_id=receiving.pk, stage=service.stage, at=now
            )
            if consent is not None:
                identified = True
            elif if_no_consent == "refuse":
                raise MissingConsent(
                    "No active consent covers disclosing this person's identifying data to "
                    f"{receiving.name} or the {service.get_stage_display()} stage.",
                    errors={
                        "person": [
                            "No active consent covers this recipient; record consent or "
                            "send the referral anonymous (if_no_consent=anonymous)."
                        ]
                    },
                )

    referral = Referral(
        client_uuid=client_uuid,
        person=person,
        sender=sender,
        sender_organization=organization,
        to_service=service,
        receiving_organization=receiving,
        task_force=in_task_force,
        stage=service.stage,
        pathway=pathway,
        urgency=urgency,
        contact=contact,
        parent=parent,
        identified=identified,
        consent=consent,
        status=ReferralStatus.SENT,
        status_changed_at=now,
        sla_due_at=sla_due(service=service, urgency=urgency, start=now),
        journey_started_at=min(journey_started_at, now),
    )
    referral.reason_key_id, referral.reason_enc = _seal(
        person=person,
        organization_id=organization.pk,
        context=crypto.referral_reason_context(referral.pk),
        text=(reason or "").strip(),
    )
    if client_uuid is None:
        insert(referral)
    else:
        # Only a client_uuid can collide, so only then the savepoint that outlives it.
        try:
            with transaction.atomic():
                insert(referral)
        except IntegrityError:
            # A concurrent request with the same client_uuid won: answer as its replay.
            existing = Referral.objects.filter(client_uuid=client_uuid).first()
            if existing is None:
                raise
            return _replayed(existing, organization, service, pathway, person, reason, urgency)
    referral_grant(referral=referral, new_referral=True)
    event = _sent_event(referral=referral, sender=sender, organization=organization, now=now)
    audit_record(
        actor=sender,
        action=AuditAction.CREATE,
        target=referral,
        organization_id=str(organization.pk),
        data={
            "to_service": str(service.pk),
            "receiving_organization": str(receiving.pk),
            "task_force": in_task_force.pk,
            "pathway": pathway,
            "urgency": urgency,
            "person": str(person.pk) if person else None,
            "identified": identified,
            "consent": str(consent.pk) if consent else None,
            "parent": str(parent.pk) if parent else None,
        },
    )
    _notify(
        referral=referral,
        event=event,
        organization=receiving,
        code=(
            notices.REFERRAL_NEW_URGENT
            if referral.urgency == Urgency.URGENT
            else notices.REFERRAL_NEW_ROUTINE
        ),
        params=notices.notice_params(service=service.name),
    )
    subscriptions_notify(referral=referral)
    return referral, True


@transaction.atomic
def referral_create_for_stage(
    *,
    sender,
    stage: str,
    pathway: str,
    person: Person | None = None,
    reason: str = "",
    urgency: str = Urgency.ROUTINE,
    contact: Contact | None = None,
    client_uuid: uuid.UUID | None = None,
    task_force: TaskForce | int | None = None,
) -> tuple[Referral, bool]:
    """Refer a person to whichever service of ``stage`` in the task force has a place: the
    referral is offered to every service of that stage there that accepts referrals and has
    capacity (a ``ReferralOffer`` and a grant to its organisation each), and the first to
    accept takes it (``referral_transition``). Until then it carries no identity (pseudonym
    only) and names no receiver; it expires after the shortest SLA among the services.

    ``task_force`` is needed only when the sender's organisation is in more than one. No
    service to offer it to is a 409 naming ``to_stage``. Retries with the same
    ``client_uuid`` answer as ``referral_create``'s do."""
    organization = _actor_organization(sender)
    if client_uuid is not None:
        existing = Referral.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return _replayed_for_stage(
                existing, organization, stage, pathway, person, reason, urgency
            )
    in_task_force = _sender_task_force(organization=organization, wanted=task_force)
    if person is not None and person.erased_at is not None:
        raise ValidationFailed("This person was erased.", errors={"person": ["Erased."]})
    if contact is not None and contact.organization_id != organization.pk:
        raise ValidationFailed("Unknown contact.", errors={"contact": ["Unknown contact."]})
    candidates = list(
        Service.objects.filter(
            organization__task_forces=in_task_force,
            stage=stage,
            accepting_referrals=True,
            status=ServiceStatus.ACTIVE,
        )
        .filter(Q(capacity_available__isnull=True) | Q(capacity_available__gt=0))
        .select_related("organization")
        .order_by("name", "pk")
    )
    if not candidates:
        raise Conflict(
            "No service of this stage in the task force takes referrals now.",
            errors={"to_stage": ["No service of this stage accepts referrals with a place now."]},
            code="no_service_available",
        )
    now = timezone.now()
    if contact is not None:
        journey_started_at = contact.occurred_at
    else:
        journey_started_at = _first_contact_at(person) or now
    referral = Referral(
        client_uuid=client_uuid,
        person=person,
        sender=sender,
        sender_organization=organization,
        task_force=in_task_force,
        stage=stage,
        to_stage=True,
        pathway=pathway,
        urgency=urgency,
        contact=contact,
        status=ReferralStatus.SENT,
        status_changed_at=now,
        sla_due_at=min(sla_due(service=s, urgency=urgency, start=now) for s in candidates),
        journey_started_at=min(journey_started_at, now),
    )
    referral.reason_key_id, referral.reason_enc = _seal(
        person=person,
        organization_id=organization.pk,
        context=crypto.referral_reason_context(referral.pk),
        text=(reason or "").strip(),
    )
    try:
        with transaction.atomic():
            insert(referral)
    except IntegrityError:
        existing = Referral.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _replayed_for_stage(existing, organization, stage, pathway, person, reason, urgency)
    ReferralOffer.objects.bulk_create(
        [
            ReferralOffer(referral=referral, service=s, organization=s.organization)
            for s in candidates
        ]
    )
    offered_to = {s.organization_id: s.organization for s in candidates}
    referral_offer_grant(referral=referral, organizations=list(offered_to.values()))
    event = _sent_event(referral=referral, sender=sender, organization=organization, now=now)
    audit_record(
        actor=sender,
        action=AuditAction.CREATE,
        target=referral,
        organization_id=str(organization.pk),
        data={
            "to_stage": stage,
            "offered_to": sorted(str(s.pk) for s in candidates),
            "task_force": in_task_force.pk,
            "pathway": pathway,
            "urgency": urgency,
            "person": str(person.pk) if person else None,
            "identified": False,
        },
    )
    for receiving in offered_to.values():
        _notify(
            referral=referral,
            event=event,
            organization=receiving,
            code=(
                notices.REFERRAL_NEW_STAGE_URGENT
                if referral.urgency == Urgency.URGENT
                else notices.REFERRAL_NEW_STAGE_ROUTINE
            ),
            params=notices.notice_params(stage=referral.stage),
        )
    return referral, True


def _sender_task_force(*, organization: Organization, wanted) -> TaskForce:
    """The task force of a referral to a stage: the sender's only one, else ``wanted``."""
    mine = list(TaskForce.objects.filter(organizations=organization.pk).order_by("pk"))
    if wanted is not None:
        wanted_id = getattr(wanted, "pk", wanted)
        chosen = next((tf for tf in mine if str(tf.pk) == str(wanted_id)), None)
        if chosen is None:
            raise ValidationFailed(
                "Not a task force of your organisation.",
                errors={"task_force": [_which(mine) if mine else "You are in no task force."]},
                code="not_in_task_force",
            )
        return chosen
    if not mine:
        raise ValidationFailed(
            "Your organisation is in no task force.",
            errors={"to_stage": ["Your organisation is in no task force."]},
            code="not_in_task_force",
        )
    if len(mine) > 1:
        raise ValidationFailed(
            "Your organisation is in more than one task force: say which.",
            errors={"task_force": [_which(mine)]},
            code="task_force_required",
        )
    return mine[0]


def _replayed_for_stage(existing, organization, stage, pathway, person, reason, urgency):
    same = (
        existing.to_stage
        and existing.sender_organization_id == organization.pk
        and existing.stage == stage
        and existing.pathway == pathway
        and existing.person_id == (person.pk if person else None)
        and (referral_reason_text(existing) or "") == (reason or "").strip()
        and existing.urgency == urgency
    )
    if not same:
        raise Conflict(
            "This client_uuid was already used for a different referral.",
            errors={"client_uuid": ["Already used for a different referral."]},
            code="client_uuid_reused",
        )
    return existing, False


def _claim(*, referral: Referral, organization: Organization, service_id, now) -> None:
    """The first acceptance of a referral addressed to a stage: the claiming organisation
    becomes its receiver, every other offer and the other organisations' grants go, and the
    person's identity crosses only if a consent covers the claimer or the stage. Runs under
    the referral's row lock (``referral_transition``), so a second claimer waits and then
    finds it taken."""
    offers = list(
        ReferralOffer.objects.filter(referral=referral, organization=organization)
        .select_related("service")
        .order_by("service__name", "pk")
    )
    if service_id is not None:
        offers = [o for o in offers if str(o.service_id) == str(service_id)]
    if not offers:
        raise ValidationFailed(
            "Not a service this referral is offered to.",
            errors={"to_service": ["One of your services it is offered to."]},
        )
    if len(offers) > 1:
        raise ValidationFailed(
            "It is offered to more than one of your services: say which takes it.",
            errors={
                "to_service": [", ".join(f"{o.service_id} ({o.service.name})" for o in offers)]
            },
        )
    service = offers[0].service
    referral.to_service = service
    referral.receiving_organization = organization
    referral.claimed_at = now
    person = referral.person
    if person is not None and _has_identifying_data(person):
        if organization.pk == person.organization_id:
            referral.identified = True
        else:
            referral.consent = consent_covering(
                person=person, organization_id=organization.pk, stage=referral.stage, at=now
            )
            referral.identified = referral.consent is not None
    referral.save(
        update_fields=[
            "to_service",
            "receiving_organization",
            "claimed_at",
            "identified",
            "consent",
        ]
    )
    referral_offers_withdraw(referral=referral, keep=organization)
    referral_grant(referral=referral)


def _task_force_for(
    *, organization: Organization, service: Service, wanted, parent: Referral | None
) -> TaskForce:
    """The task force a new referral belongs to (see ``referral_create``)."""
    shared = _SHARED_TASK_FORCES.all(organization.pk, service.organization_id)
    if not shared:
        raise ValidationFailed(
            _("This service is not in a task force of your organisation."),
            errors={"to_service": [_("Not a service of your organisation's task forces.")]},
            code="not_in_task_force",
        )
    if wanted is not None:
        wanted_id = getattr(wanted, "pk", wanted)
        chosen = next((tf for tf in shared if str(tf.pk) == str(wanted_id)), None)
        if chosen is None:
            raise ValidationFailed(
                _("Not a task force your organisation shares with this service."),
                errors={"task_force": [_which(shared)]},
                code="not_in_task_force",
            )
        return chosen
    if parent is not None and parent.task_force_id in {tf.pk for tf in shared}:
        return next(tf for tf in shared if tf.pk == parent.task_force_id)
    if len(shared) > 1:
        raise ValidationFailed(
            _("Your organisation shares more than one task force with this service: say which."),
            errors={"task_force": [_which(shared)]},
            code="task_force_required",
        )
    return shared[0]


def _shared_where(column, qn) -> str:
    through = TaskForce.organizations.through._meta
    members = qn(through.db_table)
    task_force = qn(through.get_field("taskforce").column)
    member = qn(through.get_field("organization").column)
    return " AND ".join(
        f"EXISTS(SELECT 1 FROM {members} m WHERE m.{task_force} = {column('id')} "  # noqa: S608
        f"AND m.{member} = %s)"
        for _ in range(2)
    )


_MEMBER = TaskForce.organizations.through._meta.get_field("organization")
# The task forces two organisations both belong to, oldest first: one statement written once
# (``core.sql``; every create asks it, and building it through the ORM cost more than
# running it).
_SHARED_TASK_FORCES = Select(
    TaskForce,
    where=_shared_where,
    params=[_MEMBER, _MEMBER],
    order=lambda column, qn: column("id"),
)


def _which(shared: list[TaskForce]) -> str:
    return "One of: " + ", ".join(f"{tf.pk} ({tf.name})" for tf in shared) + "."


def _seal(*, person: Person | None, organization_id, context: str, text: str):
    """``(key_id, blob)`` of free text about the referral's person (``crypto.text_seal``)."""
    try:
        return crypto.text_seal(
            person=person, organization_id=organization_id, context=context, value=text
        )
    except crypto.Unreadable as exc:
        raise ValidationFailed(
            _("This person's record was erased; free text about them cannot be kept."),
            errors={"reason": [_("The person was erased; leave the note empty.")]},
        ) from exc


def _clean_reason_code(*, to: str, reason_code: str, outcome: str) -> tuple[str, str]:
    """The transition's ``(reason_code, outcome)`` checked against the published code sets
    (``referral.reasons``); a missing or wrong one is a 400 naming the field."""
    reason_code, outcome = (reason_code or "").strip(), (outcome or "").strip()
    if to == ReferralStatus.EXPIRED:
        return reasons.EXPIRED_CODE, ""
    if outcome and to != ReferralStatus.COMPLETED:
        raise ValidationFailed(
            _("Only a completion has an outcome."),
            errors={"outcome": [_("Not for %(to)s.") % {"to": to}]},
        )
    if to == ReferralStatus.COMPLETED:
        if outcome not in reasons.OUTCOMES:
            raise ValidationFailed(
                _("A completion needs its outcome."),
                errors={
                    "outcome": [_("One of: %(known)s.") % {"known": ", ".join(reasons.OUTCOMES)}]
                },
            )
        if outcome == reasons.SUCCESSFUL:
            if reason_code:
                raise ValidationFailed(
                    _("A successful completion takes no reason code."),
                    errors={"reason_code": [_("Only when the outcome is not_successful.")]},
                )
            return "", outcome
    codes = reasons.REASON_CODES.get(to) if to != ReferralStatus.EXPIRED else None
    if codes is None or to not in (*reasons.CODE_REQUIRED, ReferralStatus.COMPLETED):
        if reason_code:
            raise ValidationFailed(
                _("This step takes no reason code."),
                errors={"reason_code": [_("Not for %(to)s.") % {"to": to}]},
            )
        return "", outcome
    if reason_code not in codes:
        raise ValidationFailed(
            _("A coded reason is required.") if not reason_code else _("Unknown reason code."),
            errors={
                "reason_code": [
                    _("For %(to)s, one of: %(known)s.") % {"to": to, "known": ", ".join(codes)}
                ]
            },
        )
    return reason_code, outcome


def _sent_event(*, referral, sender, organization, now) -> ReferralEvent:
    """The first step of a referral's journey, to a service or to a stage alike."""
    return insert(
        ReferralEvent(
            referral=referral,
            actor=sender,
            organization=organization,
            from_status="",
            to_status=ReferralStatus.SENT,
            created_at=now,
            seconds_since_journey_start=_seconds(now - referral.journey_started_at),
        )
    )


def _seconds(delta) -> int:
    return max(0, int(delta.total_seconds()))


def _first_contact_at(person: Person | None):
    if person is None:
        return None
    if hasattr(person, "first_contact_at"):
        return person.first_contact_at  # read with the person (``person_for_referral``)
    return (
        Contact.objects.filter(person=person)
        .order_by("occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )


def _replayed(existing, organization, service, pathway, person, reason, urgency):
    same = (
        existing.sender_organization_id == organization.pk
        and existing.to_service_id == service.pk
        and existing.pathway == pathway
        and existing.person_id == (person.pk if person else None)
        and (referral_reason_text(existing) or "") == (reason or "").strip()
        and existing.urgency == urgency
    )
    if not same:
        raise Conflict(
            _("This client_uuid was already used for a different referral."),
            errors={"client_uuid": [_("Already used for a different referral.")]},
            code="client_uuid_reused",
        )
    return existing, False


@transaction.atomic
def referral_transition(
    *,
    referral: Referral,
    actor,
    to: str,
    reason: str = "",
    reason_code: str = "",
    outcome: str = "",
    forward_to: Service | None = None,
    forward_urgency: str | None = None,
    expected_start: date | None = None,
    waitlist_position: int | None = None,
) -> Referral:
    """Move a referral to ``to``. An illegal move is a 409 and changes nothing; repeating
    the move that put the referral where it is (same actor, same state) returns it unchanged.

    ``actor=None`` is the system (SLA expiry, coded ``no_answer_within_sla``). Declining,
    withdrawing and disengaging need a ``reason_code`` from their published set; completing
    needs an ``outcome`` (and a code when not successful). ``reason`` is an optional note,
    sealed at rest and read by fewer people than the code (``referral.selectors``).
    Forwarding makes the child referral to ``forward_to`` in the same transaction.
    Putting on the waiting list needs ``expected_start`` (and takes ``waitlist_position``
    when the service keeps one); the service's current wait is kept up to date with it.
    """
    # The row lock makes concurrent transitions queue: the second sees the first's result.
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("sender_organization", "receiving_organization", "to_service", "person")
        .get(pk=referral.pk)
    )
    if to not in ReferralStatus.values:
        raise ValidationFailed(
            _("Unknown status."), errors={"to": [_("%(to)r is not a status.") % {"to": to}]}
        )
    if actor is not None and referral.to_stage:
        # a candidate that lost the offer while it waited for this lock: 409, as when it
        # comes after (``referral_for_transition``)
        ended = ended_offer_conflict(
            referral_id=referral.pk, organization_id=_actor_organization(actor).pk
        )
        if ended is not None:
            raise ended
    side = side_for(referral.status, to)
    if side is None and _is_repeat(referral=referral, actor=actor, to=to):
        # A retry of the move that already happened (its answer was lost): the same
        # answer again, nothing changed, nothing sent twice.
        return referral
    if side is None:
        possible = ", ".join(next_statuses(referral.status)) or _("no further states")
        raise Conflict(
            _("A referral that is %(status)s cannot become %(to)s.")
            % {"status": referral.status, "to": to},
            errors={
                "to": [
                    _("From %(status)s: %(possible)s.")
                    % {"status": referral.status, "possible": possible}
                ]
            },
            code="illegal_transition",
        )
    organization = None
    claiming = False
    if actor is None:
        if side is not Side.SYSTEM:
            raise Conflict(_("Only a member can take this step."), code="illegal_transition")
    else:
        organization = _actor_organization(actor)
        if referral.is_open_offer and organization.pk != referral.sender_organization_id:
            if not ReferralOffer.objects.filter(
                referral=referral, organization=organization
            ).exists():
                raise NotFound()
            if to != ReferralStatus.ACCEPTED:
                raise Conflict(
                    "A referral open to a stage is taken by accepting it; nothing else.",
                    errors={"to": ["Only accepted, to take it."]},
                    code="illegal_transition",
                )
            claiming = True
        allowed = {
            Side.RECEIVER: claiming or organization.pk == referral.receiving_organization_id,
            Side.SENDER: organization.pk == referral.sender_organization_id,
            Side.SYSTEM: False,
        }[side]
        if not allowed:
            if organization.pk not in (
                referral.receiving_organization_id,
                referral.sender_organization_id,
            ):
                raise NotFound()
            raise Conflict(
                _("Only the %(side)s may move a referral to %(to)s.")
                % {"side": side.value, "to": to},
                errors={
                    "to": [_("Only the %(side)s organisation may do this.") % {"side": side.value}]
                },
                code="illegal_transition",
            )
    reason = (reason or "").strip()
    reason_code, outcome = _clean_reason_code(to=to, reason_code=reason_code, outcome=outcome)
    if to == ReferralStatus.FORWARDED and forward_to is None:
        raise ValidationFailed(
            _("Forwarding needs the next service."),
            errors={"to_service": [_("Required to forward.")]},
        )
    _clean_waitlist(to=to, expected_start=expected_start, position=waitlist_position)

    now = timezone.now()
    if claiming:
        _claim(
            referral=referral,
            organization=organization,
            service_id=getattr(forward_to, "pk", None),
            now=now,
        )
        forward_to = None
    elif referral.is_open_offer:
        referral_offers_withdraw(referral=referral, keep=None)  # closed before anyone took it
    from_status = referral_from = referral.status
    previous_change = referral.status_changed_at
    referral.status = to
    referral.status_changed_at = now
    referral.status_reason_code = reason_code
    referral.outcome = outcome
    waiting = to == ReferralStatus.WAITLISTED
    referral.expected_start = expected_start if waiting else None
    referral.waitlist_position = waitlist_position if waiting else None
    measured = _measures(referral=referral, from_status=referral_from, to=to, now=now,
                         in_previous=_seconds(now - previous_change), outcome=outcome)  # fmt: skip
    referral.save(
        update_fields=[
            "status",
            "status_changed_at",
            "status_reason_code",
            "outcome",
            "expected_start",
            "waitlist_position",
            *measured,
        ]
    )
    referral_grants_follow(referral=referral)
    event = ReferralEvent.objects.create(
        referral=referral,
        actor=actor,
        organization=organization,
        from_status=from_status,
        to_status=to,
        reason_code=reason_code,
        outcome=outcome,
        expected_start=referral.expected_start,
        waitlist_position=referral.waitlist_position,
        created_at=now,
        seconds_in_previous=_seconds(now - previous_change),
        seconds_since_journey_start=_seconds(now - referral.journey_started_at),
    )
    if reason:
        # Sealed once the row has its id, which binds the ciphertext to it.
        event.reason_key_id, event.reason_enc = _seal(
            person=referral.person,
            organization_id=organization.pk if organization else None,
            context=crypto.event_reason_context(event.pk),
            text=reason,
        )
        event.save(update_fields=["reason_key_id", "reason_enc"])
    audit_record(
        actor=actor,
        action=AuditAction.TRANSITION,
        target=referral,
        organization_id=str(referral.receiving_organization_id or referral.sender_organization_id),
        # The code, never the note: the audit trail outlives erasure.
        data={
            "from": from_status,
            "to": to,
            "reason_code": reason_code,
            "outcome": outcome,
            "expected_start": expected_start.isoformat() if waiting else None,
            "claimed": str(referral.to_service_id) if claiming else None,
            "fields": ["reason"] if reason else [],
        },
    )
    if ReferralStatus.WAITLISTED in (from_status, to) and referral.to_service_id:
        service_waiting_update(service=referral.to_service)
    if to == ReferralStatus.FORWARDED:
        referral_create(
            sender=actor,
            service=forward_to,
            pathway=referral.pathway,
            person=referral.person,
            reason=reason,
            urgency=forward_urgency or referral.urgency,
            parent=referral,
        )
    _notify(
        referral=referral,
        event=event,
        organization=referral.sender_organization,
        **_status_notice(referral),
    )
    subscriptions_notify(referral=referral)
    return referral


def _measures(*, referral: Referral, from_status: str, to: str, now, in_previous: int, outcome):
    """Set what the outcome metrics read on the referral; the names of the fields set."""
    changed = []
    if to == ReferralStatus.ACCEPTED:
        referral.accepted_after_seconds = in_previous
        changed.append("accepted_after_seconds")
    if from_status == ReferralStatus.WAITLISTED:
        referral.waitlisted_seconds = in_previous
        changed.append("waitlisted_seconds")
    if to == ReferralStatus.ENGAGED and referral.engaged_at is None:
        referral.engaged_at = now
        referral.engaged_after_journey_seconds = _seconds(now - referral.journey_started_at)
        changed += ["engaged_at", "engaged_after_journey_seconds"]
    left = to == ReferralStatus.DISENGAGED or (
        to == ReferralStatus.COMPLETED and outcome == reasons.NOT_SUCCESSFUL
    )
    if left and referral.engaged_at is not None:
        referral.left_care_after_seconds = _seconds(now - referral.engaged_at)
        changed.append("left_care_after_seconds")
    return changed


def _clean_waitlist(*, to: str, expected_start: date | None, position: int | None) -> None:
    if to != ReferralStatus.WAITLISTED:
        if expected_start is not None or position is not None:
            field = "expected_start" if expected_start is not None else "waitlist_position"
            raise ValidationFailed(
                "Only a move to the waiting list has an expected start.",
                errors={field: [f"Not for {to}."]},
            )
        return
    if expected_start is None:
        raise ValidationFailed(
            "The waiting list needs the expected start date.",
            errors={"expected_start": ["Required to put on the waiting list."]},
        )
    if expected_start < timezone.now().date() - timedelta(days=1):
        raise ValidationFailed(
            "The expected start is in the past.",
            errors={"expected_start": ["Today or later."]},
        )
    if position is not None and position < 1:
        raise ValidationFailed(
            "A place on the list counts from 1.", errors={"waitlist_position": ["1 or more."]}
        )


def service_waiting_update(*, service: Service) -> None:
    """Keep the service's current wait (what the directory shows): how many wait for a place
    now, and the median days from joining its list to the expected start. Called inside the
    transaction of every move onto or off the list, with the service row locked so that
    concurrent moves count each other."""
    Service.objects.select_for_update().filter(pk=service.pk).values_list("pk").first()
    waits = sorted(
        (expected - joined.date()).days
        for joined, expected in Referral.objects.filter(
            to_service=service, status=ReferralStatus.WAITLISTED, expected_start__isnull=False
        ).values_list("status_changed_at", "expected_start")
    )
    count = len(waits)
    median = None
    if waits:
        middle = count // 2
        median = waits[middle] if count % 2 else (waits[middle - 1] + waits[middle]) // 2
        median = max(0, median)
    Service.objects.filter(pk=service.pk).update(waiting_count=count, current_wait_days=median)


def _status_notice(referral: Referral) -> dict:
    """What the sender is told, as a notice's code and parameters: the status, the outcome
    or coded reason, and for the waiting list the expected start (codes and dates only,
    never a note)."""
    addressee = notices.addressee_params(referral)
    if referral.status == ReferralStatus.WAITLISTED:
        return {
            "code": notices.REFERRAL_WAITLISTED,
            "params": notices.notice_params(**addressee, start=referral.expected_start),
        }
    return {
        "code": notices.REFERRAL_STATUS,
        "params": notices.notice_params(
            **addressee,
            status=referral.status,
            outcome=referral.outcome or "",
            reason_code=referral.status_reason_code or "",
        ),
    }


def _is_repeat(*, referral: Referral, actor, to: str) -> bool:
    """The referral is already ``to`` and the last move to it was ``actor``'s."""
    if actor is None or referral.status != to:
        return False
    last = (
        ReferralEvent.objects.filter(referral=referral)
        .order_by("-created_at", "-id")
        .values_list("actor_id", "to_status")
        .first()
    )
    return last == (actor.pk, to)


def _notify(
    *,
    referral: Referral,
    event: ReferralEvent,
    organization: Organization,
    code: str,
    params: dict,
):
    """Status only: never the person, a note or a clinical detail. Stored as a code with
    parameters (``referral.notices``), put into words in each reader's language."""
    from referral.tasks import notification_queue

    notification_queue(
        insert(
            Notification(
                referral=referral, organization=organization, event=event, code=code, params=params
            )
        )
    )


@transaction.atomic
def referral_note_add(*, referral: Referral, actor, text: str) -> ReferralNote:
    """A clinical or engagement note of the receiving organisation, encrypted (under the
    person's data key, so erasure shreds it; anonymous referrals under the master key)."""
    organization = _actor_organization(actor)
    if organization.pk != referral.receiving_organization_id:
        raise NotFound()
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("A note needs text."), errors={"text": [_("Required.")]})
    note_id = uuid.uuid4()
    person = referral.person
    if person is not None and person.wrapped_data_key is not None:
        data_key = crypto.data_key_unwrap(
            person_id=str(person.pk), key_id=person.data_key_id, wrapped=person.wrapped_data_key
        )
        blob = crypto.field_encrypt(
            data_key=data_key,
            person_id=str(person.pk),
            field=f"referral-note:{note_id}",
            value=text,
        )
        key_id = crypto.PERSON_KEY
    else:
        key_id, blob = crypto.master_encrypt(value=text, context=f"referral-note:{note_id}")
    note = ReferralNote.objects.create(
        id=note_id,
        referral=referral,
        author=actor,
        organization=organization,
        text_enc=blob,
        key_id=key_id,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=note,
        organization_id=str(organization.pk),
        data={"referral": str(referral.pk)},
    )
    return note


def person_for_referral(*, user, person_id) -> Person:
    """The person to refer, if the sender's organisation may see them; else a 400 that does
    not reveal whether they exist."""
    person = person_visible_get(user, person_id)
    if person is None:
        raise ValidationFailed(_("Unknown person."), errors={"person": [_("Unknown person.")]})
    return person
