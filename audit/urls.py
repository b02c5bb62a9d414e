from django.urls import path

from audit.api import AuditEventListApi

app_name = "audit"

urlpatterns = [
    path("audit/events/", AuditEventListApi.as_view(), name="event-list"),
]
