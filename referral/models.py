"""People, consent, contacts and referrals.

Identifying fields are stored only as ciphertext (``*_enc``), each person under a data key of
their own that is wrapped by the master encryption key (``referral.crypto``); destroying the
wrapped key erases the person (crypto-shredding) while counts, dates and statuses remain.
Who may read what is decided in ``referral.selectors`` with object permissions granted to
organisation groups through guardian's direct foreign-key models below.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from services_directory.models import Organization, Service, Stage, TaskForce

# Stored with each consent as it was given (English); shown in the reader's language
# (``redisclosure_notice_text``) when it is this standard notice.
REDISCLOSURE_NOTICE = gettext_noop(
    "This information has been disclosed to you from records protected by federal "
    "confidentiality rules (42 CFR part 2) and by the GDPR (art. 9). These rules prohibit you "
    "from making any further disclosure of this information unless it is expressly permitted "
    "by the written consent of the person to whom it pertains or as otherwise permitted by "
    "42 CFR part 2 and applicable data-protection law. A general authorization for the "
    "release of medical or other information is NOT sufficient for this purpose. The rules "
    "restrict any use of the information to investigate or prosecute the person."
)


def redisclosure_notice_text(notice: str = REDISCLOSURE_NOTICE) -> str:
    """A consent's re-disclosure notice in the active language (a notice of other words,
    as stored)."""
    return gettext(notice) if notice == REDISCLOSURE_NOTICE else notice


class Pathway(models.TextChoices):
    """The six deflection pathways (PTACC)."""

    SELF_REFERRAL = "self_referral", _("Self-referral")
    ACTIVE_OUTREACH = "active_outreach", _("Active outreach")
    NALOXONE_PLUS = "naloxone_plus", _("Naloxone plus")
    OFFICER_PREVENTION = "officer_prevention", _("Officer prevention")
    OFFICER_INTERVENTION = "officer_intervention", _("Officer intervention")
    COMMUNITY_RESPONSE = "community_response", _("Community response")


class Person(models.Model):
    """Someone being helped. Pseudonymous first: ``display_name`` is all that is required."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=80, help_text="Street name or initials.")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="people")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The person's own data key, wrapped (AES-GCM) by the master key ``data_key_id``.
    # NULL after erasure: the ciphertexts below can then never be read again.
    wrapped_data_key = models.BinaryField(null=True, editable=False)
    data_key_id = models.CharField(max_length=64, blank=True, editable=False)
    given_name_enc = models.BinaryField(null=True, editable=False)
    family_name_enc = models.BinaryField(null=True, editable=False)
    birth_date_enc = models.BinaryField(null=True, editable=False)
    phone_enc = models.BinaryField(null=True, editable=False)
    notes_enc = models.BinaryField(null=True, editable=False)
    # HMAC of normalised names + birth date under the blind-index key: exact duplicate
    # detection without plaintext. Empty when there is too little to match on, or erased.
    blind_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    blind_index_key_id = models.CharField(max_length=64, blank=True, editable=False)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["-created_at", "id"]
        permissions = [("view_person_identity", "Can view the person's identifying fields")]

    def __str__(self) -> str:
        return self.display_name


class PersonUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Person, on_delete=models.CASCADE)


class PersonGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Person, on_delete=models.CASCADE)


class DisclosedField(models.TextChoices):
    """The identifying fields a consent may list (42 CFR Part 2 §2.31(a)(3): how much and
    what kind of information)."""

    GIVEN_NAME = "given_name", _("Given name")
    FAMILY_NAME = "family_name", _("Family name")
    BIRTH_DATE = "birth_date", _("Date of birth")
    PHONE = "phone", _("Phone")
    NOTES = "notes", _("Notes")


def all_disclosed_fields() -> list[str]:
    return list(DisclosedField.values)


class ConsentMethod(models.TextChoices):
    VERBAL_WITNESSED = "verbal_witnessed", _("Verbal, witnessed")
    WRITTEN = "written", _("Written")
    ELECTRONIC = "electronic", _("Electronic")


class Consent(models.Model):
    """What a person agreed may be disclosed, by whom, to whom, for what, until when
    (42 CFR Part 2 §2.31; GDPR art. 9(2)(a)). Revocable; revocation stops future disclosure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    disclosing_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="consents_given"
    )
    recipients = models.ManyToManyField(Organization, related_name="consents_received", blank=True)
    stages = models.JSONField(default=list, blank=True, help_text="Continuum stages covered.")
    disclosed_fields = models.JSONField(
        default=all_disclosed_fields,
        help_text="The identifying fields this consent discloses (a subset of DisclosedField).",
    )
    information = models.TextField(help_text="How much and what kind of information.")
    purpose = models.TextField()
    method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    given_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    expires_on_event = models.CharField(max_length=200, blank=True)
    expired_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when expires_on_event happened."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    redisclosure_notice = models.TextField(default=REDISCLOSURE_NOTICE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "id"]
        indexes = [models.Index(fields=["person", "revoked_at"])]

    def __str__(self) -> str:
        return f"Consent {self.id} for {self.person_id}"


class Offer(models.TextChoices):
    NALOXONE = "naloxone", _("Naloxone")
    SYRINGES = "syringes", _("Syringes")
    TESTING = "testing", _("Testing")
    INFORMATION = "information", _("Information")
    FOOD = "food", _("Food")
    REFERRAL = "referral", _("Referral")


class Contact(models.Model):
    """One outreach or police encounter, logged in the street."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_uuid = models.UUIDField(unique=True, help_text="The phone's own id for this contact.")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="contacts"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField()
    place = models.CharField(max_length=120, blank=True, help_text="Coarse place, no address.")
    pathway = models.CharField(max_length=24, choices=Pathway.choices)
    offered = models.JSONField(default=list, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    notes_enc = models.BinaryField(null=True, editable=False)
    notes_key_id = models.CharField(max_length=64, blank=True, editable=False)
    # SHA-256 of the canonical request body: a replay with the same body is the same contact.
    request_fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-occurred_at", "id"]
        indexes = [models.Index(fields=["organization", "-occurred_at"])]

    def __str__(self) -> str:
        return f"Contact {self.id}"


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    WAITLISTED = "waitlisted", _("Waiting for a place")
    ENGAGED = "engaged", _("Engaged")
    COMPLETED = "completed", _("Completed")
    DISENGAGED = "disengaged", _("Disengaged (lost to follow-up)")
    FORWARDED = "forwarded", _("Forwarded")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Referral(models.Model):
    """A hand-off from a sender to a service, for a person (or anonymous), on a pathway."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="referrals_sent"
    )
    # Both empty while a referral addressed to a stage (``to_stage``) waits for a service to
    # take it (``ReferralOffer``); set at the claim.
    to_service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    receiving_organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    # Addressed to every service of ``stage`` in the task force with a place, the first to
    # accept taking it (``claimed_at``).
    to_stage = models.BooleanField(default=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The task force in which the hand-off is made (one the sender's organisation shares with
    # the service's): its coordinators, board, flows and conferences see it, no other's.
    # Null only for rows from before it was recorded whose organisations share none.
    task_force = models.ForeignKey(
        TaskForce, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    pathway = models.CharField(max_length=24, choices=Pathway.choices)
    # The sender's free text (why referred), sealed like identity (``referral.crypto``,
    # ``text_seal``): under the person's data key, else under the master key bound to the
    # sending organisation. Read by the sender and the receiver only.
    reason_enc = models.BinaryField(null=True, editable=False)
    reason_key_id = models.CharField(max_length=64, blank=True, editable=False)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # True when the person's identifying data is disclosed to the receiving organisation,
    # under ``consent``; False for anonymous (pseudonym-only) referrals.
    identified = models.BooleanField(default=False)
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    status = models.CharField(
        max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    status_changed_at = models.DateTimeField()
    # The coded reason and outcome of the latest transition (``referral.reasons``): what
    # every party sees, kept here so that lists need no event lookups.
    status_reason_code = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16, blank=True)
    # While waitlisted: when the service expects to start, and the person's place in its
    # queue if it keeps one (both set by the move to waitlisted; status only, no clinical data).
    expected_start = models.DateField(null=True, blank=True)
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    sla_due_at = models.DateTimeField(help_text="When a referral still sent expires.")
    # What the outcome metrics read (``coordination.metrics``), set by the transitions so
    # that a period's metrics are one pass over its referrals: seconds from sending to
    # acceptance; the (first) engagement and its seconds since the journey began; seconds
    # from that engagement to leaving care (lost to follow-up, or completed without
    # success); seconds spent on the waiting list, once off it.
    accepted_after_seconds = models.PositiveBigIntegerField(null=True, blank=True)
    engaged_at = models.DateTimeField(null=True, blank=True)
    engaged_after_journey_seconds = models.PositiveBigIntegerField(null=True, blank=True)
    left_care_after_seconds = models.PositiveBigIntegerField(null=True, blank=True)
    waitlisted_seconds = models.PositiveBigIntegerField(null=True, blank=True)
    # When this person's way along the continuum began: the originating contact, else the
    # first referral of the forwarding chain, else this referral. Flows measure "time from
    # first contact to treatment entry" from here.
    journey_started_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["sender_organization", "-created_at"]),
            models.Index(fields=["receiving_organization", "status", "-created_at"]),
            models.Index(fields=["status", "sla_due_at"]),
            # The referral list, newest first, read along one of these and stopped after the
            # page: unfiltered, received (direction=received), and by status.
            models.Index(fields=["-created_at", "-id"], name="referral_newest_idx"),
            models.Index(
                fields=["receiving_organization", "-created_at", "-id"],
                name="referral_received_newest_idx",
            ),
            models.Index(
                fields=["status", "-created_at", "-id"], name="referral_status_newest_idx"
            ),
            # a task force's referrals made in a period (the metrics' cohort)
            models.Index(fields=["task_force", "created_at"], name="referral_task_force_made_idx"),
            # The metrics' exact medians for a task force: the middle rows of a period read in
            # value order off these (index only, stopped after the middle), overall and per
            # pathway (``coordination.metrics``). Partial: a referral enters them only when its
            # value is set (at acceptance, on leaving the waiting list), never at creation.
            *(
                models.Index(
                    fields=[*prefix, field, "created_at", *suffix],
                    name=name,
                    condition=models.Q(**{f"{field}__isnull": False}),
                )
                for field, short in (
                    ("accepted_after_seconds", "accept"),
                    ("waitlisted_seconds", "wait"),
                )
                for prefix, suffix, name in (
                    (["task_force"], ["pathway"], f"referral_tf_{short}_idx"),
                    (["task_force", "pathway"], [], f"referral_tf_path_{short}_idx"),
                )
            ),
        ]
        permissions = [
            ("view_referral_notes", "Can view clinical and engagement notes"),
            ("transition_referral", "Can move the referral through its states"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.id} ({self.status})"

    @property
    def is_open_offer(self) -> bool:
        """Addressed to a stage and not taken yet."""
        return self.to_stage and self.receiving_organization_id is None

    @property
    def addressee(self) -> str:
        """The service it went to, or the stage it is offered to."""
        if self.to_service_id is not None:
            return self.to_service.name
        return gettext("Any %(stage)s service") % {"stage": self.get_stage_display().lower()}

    @property
    def receiver_name(self) -> str:
        if self.receiving_organization_id is None:
            return gettext("not taken yet")
        return self.receiving_organization.name


class ReferralOffer(models.Model):
    """One service a referral addressed to a stage is offered to, until one of them takes it
    (then every offer row goes, with the other organisations' grants, in the same
    transaction)."""

    referral = models.ForeignKey("Referral", on_delete=models.CASCADE, related_name="offers")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("referral offer")
        verbose_name_plural = _("referral offers")
        constraints = [
            models.UniqueConstraint(fields=["referral", "service"], name="one_offer_per_service")
        ]
        indexes = [models.Index(fields=["organization", "referral"])]

    def __str__(self) -> str:
        return f"Offer of {self.referral_id} to {self.service_id}"


class EndedOffer(models.Model):
    """What a candidate organisation keeps of a referral offered to its stage once the offer
    is over: only that it ended, and whether another service took it or it closed first
    (expired, withdrawn). Its grants and offer rows are gone and the referral is a 404 to
    it; this row lets a late "accept" be answered 409, "another service took it", whichever
    side of the winner's commit it lands on, without showing anything of the referral."""

    referral = models.ForeignKey("Referral", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    taken = models.BooleanField(_("taken by another service"))
    ended_at = models.DateTimeField(_("ended at"))

    class Meta:
        verbose_name = _("ended offer")
        verbose_name_plural = _("ended offers")
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "organization"], name="one_ended_offer_per_organization"
            )
        ]

    def __str__(self) -> str:
        return f"Ended offer of {self.referral_id} to {self.organization_id}"


class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)
    # The referral's creation time and status, copied onto its grants (``referral.permissions``
    # writes them, ``referral_transition`` keeps the status) so that an organisation's list,
    # newest first, and its list by status are each one range of an index below: the grant
    # rows are the list, the page is read in order and stopped, and a count is an index range.
    referral_created_at = models.DateTimeField()
    referral_status = models.CharField(max_length=12)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [
            models.Index(
                fields=["group", "permission", "-referral_created_at", "-content_object"],
                name="referral_grant_newest_idx",
            ),
            models.Index(
                fields=[
                    "group",
                    "permission",
                    "referral_status",
                    "-referral_created_at",
                    "-content_object",
                ],
                name="referral_grant_status_idx",
            ),
        ]


class ReferralEvent(models.Model):
    """One transition, immutable: who moved the referral from which state to which, why."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=12, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ReferralStatus.choices)
    # From the published code set of ``to_status`` (``referral.reasons``); seen by every party.
    reason_code = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16, blank=True, help_text="For completed.")
    expected_start = models.DateField(null=True, blank=True, help_text="For waitlisted.")
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    # The optional free-text note, sealed (see Referral.reason_enc); read by the receiving
    # organisation when it wrote it, by both ends when the sender wrote it, never by
    # coordinators.
    reason_enc = models.BinaryField(null=True, editable=False)
    reason_key_id = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField()
    # Seconds spent in ``from_status``, and since the journey began: stored at transition
    # time so that flows take medians and percentiles with plain aggregates.
    seconds_in_previous = models.PositiveBigIntegerField(null=True, blank=True)
    seconds_since_journey_start = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["to_status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class ReferralNote(models.Model):
    """Clinical or engagement note of the receiving organisation; encrypted; never shown to
    the sender or coordinators."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    text_enc = models.BinaryField()
    key_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral note")
        verbose_name_plural = _("referral notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note {self.id}"


class Notification(models.Model):
    """Closed loop: the sender's organisation learns each outcome (status only). Without an
    event it tells of something else on the referral: an emergency access to the person."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(
        ReferralEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # What happened, as a code and its parameters (``referral.notices``): put into words in
    # the reader's language when it is read or emailed.
    code = models.CharField(max_length=40, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # The English sentence of a notification made before codes (shown as it was).
    legacy_message = models.CharField(max_length=300, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "organization"], name="one_notification_per_event_and_org"
            )
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        """The notification in the active language (a row from before codes: its text)."""
        return self.text()

    def text(self, language: str | None = None) -> str:
        from referral.notices import notice_text

        if not self.code:
            return self.legacy_message
        return notice_text(self.code, self.params, language=language)


class EmergencyAccess(models.Model):
    """A provider opened a person's identity without consent because of a medical emergency
    (42 CFR Part 2 §2.51; "breaking the glass"). It lasts until ``expires_at``, for that
    provider only; the stated nature of the emergency is encrypted (under the person's data
    key, so erasure shreds it) and recorded in the audit trail."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emergency_accesses")
    # The referral that makes the provider's organisation a party (the board shows it there).
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="emergency_accesses"
    )
    reason_enc = models.BinaryField(editable=False)
    reason_key_id = models.CharField(max_length=64, editable=False)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        ordering = ["-granted_at", "id"]
        indexes = [
            models.Index(fields=["user", "person", "expires_at"]),
            models.Index(fields=["granted_at"]),
        ]

    def __str__(self) -> str:
        return f"Emergency access {self.id} to {self.person_id}"


class FhirSubscriptionStatus(models.TextChoices):
    """The R4 Subscription statuses we use (``requested`` is never kept: a subscription is
    active once it passed the allow-list)."""

    ACTIVE = "active", "Active"
    OFF = "off", "Off"
    ERROR = "error", "Error"


class FhirSubscription(models.Model):
    """A partner system's rest-hook subscription to its organisation's referral Tasks
    (the R4 Subscriptions backport, id-only payloads). The endpoint matched the operator's
    allow-list (``CONTINUUM_FHIR_SUBSCRIPTION_HOSTS``) when it was made and is checked again
    at every delivery."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="fhir_subscriptions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    endpoint = models.URLField(max_length=500)
    # "" (Tasks the organisation owns or requested), "owner" or "requester".
    role = models.CharField(max_length=10, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=8,
        choices=FhirSubscriptionStatus.choices,
        default=FhirSubscriptionStatus.ACTIVE,
    )
    # The FHIR base the subscription was made on, for the absolute references notifications
    # carry (a delivery runs outside any request).
    server_base = models.URLField(max_length=300)
    events_since_start = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("FHIR subscription")
        verbose_name_plural = _("FHIR subscriptions")
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"Subscription {self.id} ({self.status})"
