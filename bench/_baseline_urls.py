"""URLs for benchmarks: the real API plus bare DRF baselines over the same tables."""

from django.urls import include, path
from rest_framework import generics, serializers

from referral.models import Referral


class BareReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = [
            "client_uuid",
            "person",
            "sender",
            "sender_organization",
            "to_service",
            "receiving_organization",
            "stage",
            "pathway",
            "urgency",
            "identified",
            "status",
            "status_changed_at",
            "sla_due_at",
        ]


class BareReferralCreate(generics.CreateAPIView):
    """A plain DRF create: no consent check, no grants, no events, no audit, no encryption."""

    serializer_class = BareReferralSerializer
    queryset = Referral.objects.all()


urlpatterns = [
    path("bench/bare-referrals/", BareReferralCreate.as_view()),
    path("", include("config.urls")),
]
