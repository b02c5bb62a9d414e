"""Background work of the referral app. Handlers take ids and call plain code; writes queue
them through the outbox (``core.outbox``), so nothing is sent for a write that rolled back
and nothing is lost when the broker or the mail server is down."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

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
            .select_related("referral", "organization")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        referral = notification.referral
        recipients = _recipients(notification)
        if recipients:
            send_mail(
                subject=f"Continuum: {notification.message}",
                message=(
                    f"{notification.message}\n\nReferral {referral.pk}: "
                    f"status {referral.status}.\nOpen Continuum for details."
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=recipients,
            )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def _recipients(notification: Notification) -> list[str]:
    referral = notification.referral
    User = get_user_model()
    if notification.organization_id == referral.sender_organization_id and referral.sender_id:
        sender = User.objects.filter(pk=referral.sender_id, is_active=True).first()
        if sender is not None and sender.email:
            return [sender.email]
    return sorted(
        User.objects.filter(
            membership__organization_id=notification.organization_id, is_active=True
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )
