"""URLs for bench/load.py: the real API plus bare DRF endpoints over the same tables, for
the baseline run of the same load (no idempotency, no audit, no outbox, no permissions)."""

from _baseline_urls import BareReferralCreate
from django.urls import include, path
from django.utils import timezone
from rest_framework import generics, serializers

from referral.models import Contact, Referral


class BareContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["client_uuid", "organization", "occurred_at", "place", "pathway", "offered"]

    def create(self, validated_data):
        return Contact.objects.create(request_fingerprint="bare", **validated_data)


class BareContactBatch(generics.CreateAPIView):
    """A plain DRF batch create: a list of contacts, one INSERT each."""

    queryset = Contact.objects.all()

    def get_serializer(self, *args, **kwargs):
        kwargs["many"] = True
        return BareContactSerializer(*args, **kwargs)

    def perform_create(self, serializer):
        serializer.save(recorded_by=self.request.user)


class BareReferralRow(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = ["id", "status", "to_service", "pathway", "status_changed_at"]


class BareInbox(generics.ListAPIView):
    serializer_class = BareReferralRow

    def get_queryset(self):
        return Referral.objects.filter(
            receiving_organization_id=self.request.query_params["organization"],
            status=self.request.query_params.get("status", "sent"),
        ).order_by("-created_at")


class BareStatus(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = ["status"]

    def update(self, instance, validated_data):
        validated_data["status_changed_at"] = timezone.now()
        return super().update(instance, validated_data)


class BareTransition(generics.UpdateAPIView):
    serializer_class = BareStatus
    queryset = Referral.objects.all()
    lookup_url_kwarg = "referral_id"


urlpatterns = [
    path("bench/bare-contacts/", BareContactBatch.as_view()),
    path("bench/bare-referrals/", BareReferralCreate.as_view()),
    path("bench/bare-inbox/", BareInbox.as_view()),
    path("bench/bare-referrals/<uuid:referral_id>/status/", BareTransition.as_view()),
    path("", include("config.urls")),
]
