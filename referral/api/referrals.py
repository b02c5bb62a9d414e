"""Referral endpoints: the inbox and outbox, the state machine, notes, FHIR, notifications."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import audit_record
from core.api.pagination import Pagination
from core.api.params import StrictBodySerializer, StrictQuerySerializer
from core.api.schema import paginated
from core.errors import NotFound, ValidationFailed
from core.idempotency import answer_concerns, idempotent
from referral.fhir import selectors as fhir_selectors
from referral.fhir.views import FhirAcceptingNegotiation
from referral.models import Contact, Pathway, ReferralStatus, Urgency
from referral.reasons import OUTCOMES, reason_codes_published, reason_label
from referral.selectors import referrals as selectors
from referral.selectors.access import membership_of
from referral.services import referrals as services
from referral.workflow import transitions_open_to
from services_directory.models import Service, Stage
from services_directory.selectors import service_with_organization


class OrganizationRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()


class ServiceRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ReasonOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class ReferralOutput(serializers.Serializer):
    """What every reader of a referral may see: status, dates, the coded reason and outcome
    of the latest step, never notes. The referral's own reason (the sender's free text) is
    for the sender and the receiver; coordinators see pseudonyms, statuses and codes only."""

    id = serializers.UUIDField()
    status = serializers.CharField()
    status_changed_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    sla_due_at = serializers.DateTimeField()
    pathway = serializers.CharField()
    stage = serializers.CharField()
    urgency = serializers.CharField()
    to_service = serializers.SerializerMethodField()
    to_stage = serializers.SerializerMethodField()
    sender_organization = OrganizationRef()
    receiving_organization = OrganizationRef(
        allow_null=True, help_text="Null while a referral to a stage waits to be taken."
    )
    person = serializers.SerializerMethodField()
    identified = serializers.BooleanField()
    task_force = serializers.IntegerField(source="task_force_id", allow_null=True)
    parent = serializers.UUIDField(source="parent_id", allow_null=True)
    reason = serializers.SerializerMethodField()
    status_reason = serializers.SerializerMethodField()
    outcome = serializers.CharField(
        allow_blank=True, help_text="Of a completion: successful or not_successful."
    )
    expected_start = serializers.DateField(
        allow_null=True, help_text="While waitlisted: when the service expects to start."
    )
    waitlist_position = serializers.IntegerField(
        allow_null=True, help_text="While waitlisted: the place in the service's queue, if kept."
    )
    relation = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    def _relations(self, referral) -> set[str]:
        cache = self.context.setdefault("relations", {})
        if referral.pk not in cache:
            cache[referral.pk] = selectors.relation_to(user=self.context["user"], referral=referral)
        return cache[referral.pk]

    @extend_schema_field(ServiceRef(allow_null=True))
    def get_to_service(self, referral) -> dict | None:
        if referral.to_service_id is None:
            return None  # a referral to a stage, not taken yet
        return {"id": str(referral.to_service_id), "name": referral.to_service.name}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_to_stage(self, referral) -> str | None:
        """The stage a referral was addressed to (whoever took it), else null."""
        return referral.stage if referral.to_stage else None

    def get_person(self, referral) -> dict | None:
        if referral.person_id is None:
            return None
        return {"id": str(referral.person_id), "display_name": referral.person.display_name}

    def get_reason(self, referral) -> str | None:
        return selectors.referral_reason(user=self.context["user"], referral=referral)

    @extend_schema_field(ReasonOutput(allow_null=True))
    def get_status_reason(self, referral) -> dict | None:
        if not referral.status_reason_code:
            return None
        return {
            "code": referral.status_reason_code,
            "label": reason_label(referral.status, referral.status_reason_code),
        }

    def get_relation(self, referral) -> list[str]:
        return sorted(self._relations(referral))

    def get_allowed_transitions(self, referral) -> list[str]:
        return transitions_open_to(referral.status, self._relations(referral))


class ReferralInput(StrictBodySerializer):
    to_service = serializers.UUIDField(
        required=False, help_text="The service referred to; or give `to_stage` instead."
    )
    to_stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text="Instead of `to_service`: offer the referral to every service of this stage "
        "in the task force that accepts referrals and has a place; the first to accept takes "
        "it (the others then get 409 and stop seeing it). Identity crosses only at that "
        "claim, under a consent covering the claiming organisation or the stage. Unclaimed "
        "after the shortest SLA among them, it expires.",
    )
    pathway = serializers.ChoiceField(choices=Pathway.choices)
    person = serializers.UUIDField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    contact = serializers.UUIDField(required=False, allow_null=True)
    client_uuid = serializers.UUIDField(required=False, allow_null=True)
    task_force = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The task force the referral is made in: needed only when your "
        "organisation shares more than one with the service (a 400 on `task_force` lists "
        "them). A service of no task force of yours is a 400 on `to_service`.",
    )
    if_no_consent = serializers.ChoiceField(
        choices=["anonymous", "refuse"],
        required=False,
        help_text=(
            "When the person's identifying data would cross to another organisation without "
            "an active consent covering it: send the referral pseudonymous (anonymous, the "
            "default) or refuse it with a 400 (refuse)."
        ),
    )

    def validate(self, attrs):
        if bool(attrs.get("to_service")) == bool(attrs.get("to_stage")):
            field = "to_stage" if attrs.get("to_stage") else "to_service"
            raise serializers.ValidationError(
                {field: ["Give either to_service or to_stage (one of them)."]}
            )
        return attrs


class TransitionInput(StrictBodySerializer):
    to = serializers.ChoiceField(choices=ReferralStatus.choices)
    reason_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="From the code set of `to` (GET /api/v1/reason-codes/): required for "
        "declined, withdrawn, disengaged, and completed when not successful.",
    )
    outcome = serializers.ChoiceField(
        choices=list(OUTCOMES.items()),
        required=False,
        help_text="Required for completed: successful or not_successful.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="An optional note, sealed at rest. A note by the receiving organisation is "
        "read by it alone; a note by the sender by both ends; never by coordinators.",
    )
    to_service = serializers.UUIDField(
        required=False,
        help_text="The next service, when forwarding; when accepting a referral to a stage "
        "offered to more than one of your services, the one that takes it.",
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    expected_start = serializers.DateField(
        required=False,
        help_text="Required for waitlisted: the date the service expects to start.",
    )
    waitlist_position = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=100000,
        help_text="For waitlisted, when the service keeps a queue: the person's place in it.",
    )


class ReferralListParams(StrictQuerySerializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    direction = serializers.ChoiceField(choices=["sent", "received"], required=False)
    pathway = serializers.ChoiceField(choices=Pathway.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class EventOutput(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason_code = serializers.CharField(allow_blank=True)
    reason_label = serializers.CharField(allow_blank=True)
    outcome = serializers.CharField(allow_blank=True)
    expected_start = serializers.DateField(allow_null=True)
    reason = serializers.CharField(
        allow_null=True, help_text="The note, where you may read it (else null)."
    )
    created_at = serializers.DateTimeField()
    organization = serializers.SerializerMethodField()

    def get_organization(self, event) -> dict | None:
        if event.organization_id is None:
            return None  # the system (SLA expiry)
        return {"id": str(event.organization_id), "name": event.organization.name}


class NoteInput(StrictBodySerializer):
    text = serializers.CharField(max_length=10000)


class NoteOutput(serializers.Serializer):
    id = serializers.UUIDField()
    author = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    text = serializers.CharField(allow_null=True)
    erased = serializers.BooleanField()


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    referral = serializers.UUIDField(source="referral_id")
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


def _service_for_referral(service_id) -> Service:
    service = service_with_organization(service_id=service_id)
    if service is None:
        raise ValidationFailed(
            _("Unknown service."), errors={"to_service": [_("Unknown service.")]}
        )
    return service


def _render(request, referral) -> dict:
    return ReferralOutput(referral, context={"user": request.user}).data


class ReferralListApi(APIView):
    @extend_schema(parameters=[ReferralListParams], responses={200: paginated(ReferralOutput)})
    def get(self, request):
        params = ReferralListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        referrals = selectors.CountedReferrals(
            user=request.user, filters=selectors.ReferralFilters(**params.validated_data)
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(referrals, request, view=self)
        data = ReferralOutput(page, many=True, context={"user": request.user}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=ReferralInput, responses={201: ReferralOutput, 200: ReferralOutput})
    @idempotent
    def post(self, request):
        params = ReferralInput(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        person = None
        if values.get("person"):
            person = services.person_for_referral(user=request.user, person_id=values["person"])
            answer_concerns(request, subject=person.pk)
        contact = None
        if values.get("contact"):
            membership = membership_of(request.user)
            contact = Contact.objects.filter(
                pk=values["contact"],
                organization_id=membership.organization_id if membership else None,
            ).first()
            if contact is None:
                raise ValidationFailed(
                    _("Unknown contact."), errors={"contact": [_("Unknown contact.")]}
                )
        if values.get("to_stage"):
            referral, created = services.referral_create_for_stage(
                sender=request.user,
                stage=values["to_stage"],
                pathway=values["pathway"],
                person=person,
                reason=values.get("reason", ""),
                urgency=values.get("urgency") or Urgency.ROUTINE,
                contact=contact,
                client_uuid=values.get("client_uuid"),
                task_force=values.get("task_force"),
            )
            if not created:
                referral = selectors.referral_get(user=request.user, referral_id=referral.pk)
            return Response(
                _render(request, referral),
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            )
        referral, created = services.referral_create(
            sender=request.user,
            service=_service_for_referral(values["to_service"]),
            pathway=values["pathway"],
            person=person,
            reason=values.get("reason", ""),
            urgency=values.get("urgency") or Urgency.ROUTINE,
            contact=contact,
            client_uuid=values.get("client_uuid"),
            if_no_consent=values.get("if_no_consent") or "anonymous",
            task_force=values.get("task_force"),
        )
        # Rendered from the objects in hand: the service, organisations and person were all
        # loaded to make the referral (a replayed one is fetched like any read).
        if not created:
            referral = selectors.referral_get(user=request.user, referral_id=referral.pk)
        return Response(
            _render(request, referral),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReferralDetailApi(APIView):
    @extend_schema(responses={200: ReferralOutput})
    def get(self, request, referral_id):
        return Response(
            _render(request, selectors.referral_get(user=request.user, referral_id=referral_id))
        )


class ReferralEventsApi(APIView):
    @extend_schema(responses={200: EventOutput(many=True)})
    def get(self, request, referral_id):
        events = selectors.referral_events(user=request.user, referral_id=referral_id)
        return Response(EventOutput(events, many=True).data)


class ReferralTransitionApi(APIView):
    @extend_schema(request=TransitionInput, responses={200: ReferralOutput})
    @idempotent
    def post(self, request, referral_id):
        referral = selectors.referral_for_transition(user=request.user, referral_id=referral_id)
        answer_concerns(request, subject=referral.person_id, resource=referral.pk)
        params = TransitionInput(data=request.data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        forward_to = (
            _service_for_referral(values["to_service"]) if values.get("to_service") else None
        )
        services.referral_transition(
            referral=referral,
            actor=request.user,
            to=values["to"],
            reason=values.get("reason", ""),
            reason_code=values.get("reason_code", ""),
            outcome=values.get("outcome", ""),
            forward_to=forward_to,
            forward_urgency=values.get("urgency"),
            expected_start=values.get("expected_start"),
            waitlist_position=values.get("waitlist_position"),
        )
        referral = selectors.referral_get(user=request.user, referral_id=referral_id)
        return Response(_render(request, referral))


class ReferralNotesApi(APIView):
    @extend_schema(responses={200: NoteOutput(many=True)})
    def get(self, request, referral_id):
        notes = selectors.referral_notes(user=request.user, referral_id=referral_id)
        if notes:
            referral = selectors.referral_get(user=request.user, referral_id=referral_id)
            if referral.person_id:
                audit_record(
                    actor=request.user,
                    action=AuditAction.READ,
                    target=referral,
                    data={"fields": ["notes"], "count": len(notes)},
                )
        return Response(NoteOutput(notes, many=True).data)

    def _replay(self, request, resource, status_code, referral_id):
        """A replayed note after its answer was shredded (the person erased): the note as
        it reads now."""
        notes = selectors.referral_notes(user=request.user, referral_id=referral_id)
        note = next((n for n in notes if str(n["id"]) == resource), None)
        if note is None:
            raise NotFound()
        return Response(NoteOutput(note).data)

    @extend_schema(request=NoteInput, responses={201: NoteOutput})
    @idempotent(replay=_replay)
    def post(self, request, referral_id):
        # Only the receiving organisation: others get the same 404 as for a missing referral.
        selectors.referral_notes(user=request.user, referral_id=referral_id)
        referral = selectors.referral_get(user=request.user, referral_id=referral_id)
        params = NoteInput(data=request.data)
        params.is_valid(raise_exception=True)
        note = services.referral_note_add(
            referral=referral, actor=request.user, text=params.validated_data["text"]
        )
        answer_concerns(request, subject=referral.person_id, resource=note.pk)
        return Response(
            {
                "id": note.pk,
                "author": request.user.get_username(),
                "created_at": note.created_at,
                "text": params.validated_data["text"],
                "erased": False,
            },
            status=status.HTTP_201_CREATED,
        )


class ReferralFhirApi(APIView):
    # JSON as the rest of the API; application/fhir+json (same body) to FHIR clients asking.
    content_negotiation_class = FhirAcceptingNegotiation

    @extend_schema(
        responses={200: dict},
        description="FHIR R4 collection Bundle (SDOH Clinical Care IG): the ServiceRequest, "
        "its Task, and the resources they reference that you may read (a Patient only with "
        "the fields a consent discloses, that read audited). The same resources as /fhir/.",
    )
    def get(self, request, referral_id):
        referral = selectors.referral_get(user=request.user, referral_id=referral_id)
        # The Patient in it is decided, decrypted and audited by ``person_identity``.
        bundle = fhir_selectors.referral_bundle(
            user=request.user, referral=referral, base=request.build_absolute_uri("/fhir/")
        )
        # application/fhir+json to a client that asks for it; JSON, as documented, otherwise
        asked = "application/fhir+json" in request.META.get("HTTP_ACCEPT", "")
        return Response(bundle, content_type="application/fhir+json" if asked else None)


class ReasonCodesApi(APIView):
    @extend_schema(
        responses={200: dict},
        description="The published code sets of coded reasons per transition, with labels, "
        "and the outcomes of a completion.",
    )
    def get(self, request):
        return Response(reason_codes_published())


class NotificationListApi(APIView):
    @extend_schema(responses={200: paginated(NotificationOutput)})
    def get(self, request):
        if membership_of(request.user) is None:
            raise NotFound()
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.notification_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(NotificationOutput(page, many=True).data)


urlpatterns = [
    path("referrals/", ReferralListApi.as_view(), name="referral-list"),
    path("referrals/<uuid:referral_id>/", ReferralDetailApi.as_view(), name="referral-detail"),
    path(
        "referrals/<uuid:referral_id>/events/",
        ReferralEventsApi.as_view(),
        name="referral-events",
    ),
    path(
        "referrals/<uuid:referral_id>/transition/",
        ReferralTransitionApi.as_view(),
        name="referral-transition",
    ),
    path("referrals/<uuid:referral_id>/notes/", ReferralNotesApi.as_view(), name="referral-notes"),
    path("referrals/<uuid:referral_id>/fhir/", ReferralFhirApi.as_view(), name="referral-fhir"),
    path("notifications/", NotificationListApi.as_view(), name="notification-list"),
    path("reason-codes/", ReasonCodesApi.as_view(), name="reason-codes"),
]
