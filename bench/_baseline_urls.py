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


class _Named(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class _Organization(_Named):
    kind = serializers.CharField()


class _Person(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


class BareReferralRowSerializer(serializers.ModelSerializer):
    """The columns the API list renders, straight off the rows."""

    to_service = _Named()
    sender_organization = _Organization()
    receiving_organization = _Organization()
    person = _Person(allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "status",
            "status_changed_at",
            "created_at",
            "sla_due_at",
            "pathway",
            "stage",
            "urgency",
            "to_service",
            "sender_organization",
            "receiving_organization",
            "person",
            "identified",
            "task_force",
            "parent",
            "status_reason_code",
            "outcome",
        ]


class BareReferralPage(generics.ListAPIView):
    """The same page of rows the API list answered (``?ids=``), read by the primary-key
    index with the same joins and rendered by a plain ModelSerializer: no membership, no
    grants, no count, no per-row reader logic."""

    serializer_class = BareReferralRowSerializer
    pagination_class = None

    def get_queryset(self):
        ids = self.request.query_params.get("ids", "").split(",")
        return (
            Referral.objects.filter(pk__in=[i for i in ids if i])
            .select_related("to_service", "sender_organization", "receiving_organization", "person")
            .order_by("-created_at", "-id")
        )


urlpatterns = [
    path("bench/bare-referrals/", BareReferralCreate.as_view()),
    path("bench/bare-referral-page/", BareReferralPage.as_view()),
    path("", include("config.urls")),
]
