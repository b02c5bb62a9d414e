"""Background work of the referral app. Tasks take ids and call plain code; they are
queued with ``transaction.on_commit`` so nothing is sent for a write that rolled back."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from referral.models import Notification


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8, acks_late=True)
def notification_send(self, notification_id: int) -> bool:
    """Email a notification to its organisation once (a retried task sends nothing twice).

    The message is status only: never a name, a note or a clinical detail."""
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
