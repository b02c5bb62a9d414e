"""``/notifications/``: the closed loop on a page. The organisation's notifications, newest
first, unread ones marked; "Mark read" (one, or all) posts back here. Status only, as the
notifications themselves: never a person's identity or a note."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from referral.selectors.referrals import notification_list
from referral.services.notifications import notifications_mark_read

PAGE_SIZE = 25


@login_required
@require_http_methods(["GET", "POST"])
def notifications_page(request):
    if request.method == "POST":
        if request.POST.get("all") == "true":
            ids = None
        else:
            ids = [v for v in request.POST.getlist("notification") if v.isdigit()]
        changed = notifications_mark_read(actor=request.user, notification_ids=ids)
        if changed:
            messages.success(request, _("Marked read."))
        return redirect("notifications-page")
    notifications = notification_list(user=request.user).select_related(
        "referral__to_service", "event"
    )
    try:
        page = Paginator(notifications, PAGE_SIZE).page(request.GET.get("page", 1))
    except InvalidPage as exc:
        raise Http404(str(exc)) from exc
    return render(request, "referral/notifications.html", {"page": page})


urlpatterns = [path("notifications/", notifications_page, name="notifications-page")]
