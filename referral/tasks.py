"""Background work of the referral app. Handlers take ids and call plain code; writes queue
them through the outbox (``core.outbox``), so nothing is sent for a write that rolled back
and nothing is lost when the broker or the mail server is down."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.outbox import handler, outbox_send
from referral.fhir import subscriptions as fhir_subscriptions  # noqa: F401 - its handler
from referral.models import Notification

NOTIFICATION_SEND = "referral.notification_send"


def notification_queue(notification: Notification) -> None:
    """Queue the notification's email in the current transaction (the outbox)."""
    outbox_send(handler=NOTIFICATION_SEND, args=[notification.pk])


@handler(NOTIFICATION_SEND)
def notification_send(notification_id: int) -> bool:
    """Email a notification to its organisation once (a repeated run sends nothing twice).

    The message is status only: never a name, a note or a clinical detail. A mail server
    that does not answer raises; the outbox retries the message later."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("referral", "referral__task_force", "organization")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        referral = notification.referral
        for language, recipients in _recipients_by_language(notification).items():
            with translation.override(language):
                text = notification.text()
                send_mail(
                    subject=_("Continuum: %(message)s") % {"message": text},
                    message=_(
                        "%(message)s\n\nReferral %(referral)s: status %(status)s.\n"
                        "Open Continuum for details."
                    )
                    % {
                        "message": text,
                        "referral": referral.pk,
                        "status": referral.get_status_display(),
                    },
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=recipients,
                )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def _recipients(notification: Notification) -> list[tuple[str, str]]:
    """(email, language) of whoever is told: the sender for their own referral, else the
    organisation's active members with an email address."""
    referral = notification.referral
    User = get_user_model()
    users = User.objects.filter(is_active=True).exclude(email="")
    if notification.organization_id == referral.sender_organization_id and referral.sender_id:
        sender = list(
            users.filter(pk=referral.sender_id).values_list("email", "membership__language")
        )
        if sender:
            return sender
    return sorted(
        users.filter(membership__organization_id=notification.organization_id).values_list(
            "email", "membership__language"
        )
    )


def _recipients_by_language(notification: Notification) -> dict[str, list[str]]:
    """The recipients grouped by the language each reads: their saved choice, else the
    default of the referral's task force."""
    task_force = notification.referral.task_force
    fallback = task_force.default_language if task_force is not None else settings.LANGUAGE_CODE
    grouped: dict[str, list[str]] = {}
    for email, language in _recipients(notification):
        grouped.setdefault(language or fallback, []).append(email)
    return grouped
