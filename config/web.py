"""What every page shares: ``/`` takes each member to their work, and the navigation (with
the unread notification count) that ``templates/base.html`` draws. It lives in ``config``
because it spans the apps: it only calls their selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from referral.selectors.access import membership_of
from referral.selectors.referrals import notification_unread_count
from services_directory.models import Role

# Where each role starts: its work, not a statistics page.
HOME = {
    Role.VOLUNTEER: "contact-new",
    Role.OFFICER: "referral-new-page",
    Role.PROVIDER: "referral-inbox",
    Role.COORDINATOR: "coordination-board",
    Role.ORG_ADMIN: "organization-page",
}

# The navigation of each role, in order: (url name, label).
NAVIGATION = {
    Role.VOLUNTEER: (
        ("contact-new", _("Log a contact")),
        ("referral-new-page", _("Refer")),
        ("people-page", _("People")),
        ("referral-sent", _("My referrals")),
        ("directory-page", _("Directory")),
    ),
    Role.OFFICER: (
        ("referral-new-page", _("Refer")),
        ("people-page", _("People")),
        ("referral-sent", _("My referrals")),
        ("directory-page", _("Directory")),
    ),
    Role.PROVIDER: (
        ("referral-inbox", pgettext_lazy("navigation: the referrals received", "Inbox")),
        ("referral-sent", pgettext_lazy("navigation: the referrals sent", "Sent")),
        ("directory-page", _("Directory")),
    ),
    Role.COORDINATOR: (
        ("coordination-board", _("Board")),
        ("conference-list-page", _("Conferences")),
        ("coordination-dashboard", _("Flows")),
        ("directory-page", _("Directory")),
    ),
    Role.ORG_ADMIN: (
        ("organization-page", _("Organisation")),
        ("referral-list-page", _("Referrals")),
        ("coordination-dashboard", _("Flows")),
        ("directory-page", _("Directory")),
    ),
}
FALLBACK_NAVIGATION = (("coordination-dashboard", _("Flows")),)
LIST_VIEWS = {"referral-inbox": "received", "referral-sent": "sent"}


def _url(name: str) -> str | None:
    if name in LIST_VIEWS:
        return f"{reverse('referral-list-page')}?direction={LIST_VIEWS[name]}"
    try:
        return reverse(name)
    except NoReverseMatch:  # a page not built in this version
        return None


def _role(user) -> str | None:
    membership = membership_of(user)
    return None if membership is None else membership.role


@require_GET
@login_required
def home(request):
    """Each member lands on their work; someone without an organisation on the flows."""
    url = _url(HOME.get(_role(request.user), "coordination-dashboard"))
    return redirect(url or reverse("coordination-dashboard"))


def navigation(request) -> dict:
    """Template context: the signed-in member's navigation and unread notifications."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "offers_board": False}
    role = _role(user)
    here = request.get_full_path()
    items = []
    for name, label in NAVIGATION.get(role, FALLBACK_NAVIGATION):
        url = _url(name)
        if url is not None:
            items.append({"url": url, "label": label, "current": here == url})
    unread = notification_unread_count(user=user)
    items.append(
        {
            "url": reverse("notifications-page"),
            "label": _("Notifications"),
            "count": unread,
            "current": here.startswith(reverse("notifications-page")),
        }
    )
    return {
        "navigation": items,
        "offers_board": role == Role.COORDINATOR,
        "unread_notifications": unread,
    }
