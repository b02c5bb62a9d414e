"""Directory and account endpoints. Each view parses, calls one selector or service, renders."""

from __future__ import annotations

from django.contrib.auth import (
    authenticate,
    update_session_auth_hash,
    user_logged_in,
    user_login_failed,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import Pagination
from core.api.schema import paginated
from core.errors import NotFound, ValidationFailed
from core.idempotency import idempotent
from services_directory import accounts, selectors, services
from services_directory.api.serializers import (
    DeviceTokenOutput,
    LocationInput,
    LocationListParams,
    LocationOutput,
    MeOutput,
    OrganizationListParams,
    OrganizationOutput,
    PasswordChangeInput,
    ServiceInput,
    ServiceListParams,
    ServiceOutput,
    TokenInput,
    TokenOutput,
    pop_schedules,
    split_service_input,
)
from services_directory.models import DeviceToken


def _paginated(view: APIView, request, queryset, serializer_class) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _own_organization(user):
    membership = getattr(user, "membership", None)
    if membership is None:
        raise NotFound(_("You are not a member of an organisation."))
    return membership.organization


# --- accounts ------------------------------------------------------------------------------


class TokenLoginApi(APIView):
    """Exchange a username and password for an API token (phones, scripts)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "login"

    @extend_schema(request=TokenInput, responses={200: TokenOutput})
    def post(self, request):
        params = TokenInput(data=request.data)
        params.is_valid(raise_exception=True)
        # The Django request, so that django-axes marks a lock where its middleware looks.
        user = authenticate(
            request._request,
            username=params.validated_data["username"],
            password=params.validated_data["password"],
        )
        if user is None or not user.is_active:
            # Same answer for unknown user, wrong password and inactive account.
            return Response(
                {
                    "detail": "Unable to log in with these credentials.",
                    "code": "authentication_failed",
                    "errors": {"password": ["Wrong username or password."]},
                },
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        if accounts.second_factor_required(user):
            refused = _second_factor_refusal(request, user, params.validated_data)
            if refused is not None:
                return refused
        token, raw = accounts.token_issue(user=user, device=params.validated_data.get("device", ""))
        # The login signal updates last_login and writes the audit event, as a web login does.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(TokenOutput({"token": raw, "expiry": token.expiry}).data)


def _second_factor_refusal(request, user, values) -> Response | None:
    """The 401 for a user who must send a second factor and did not send a good one."""
    if not accounts.second_factor_enrolled(user):
        return Response(
            {
                "detail": "This account signs in with a second factor: enrol an "
                "authenticator app at /accounts/two-factor/ first.",
                "code": "otp_enrolment_required",
                "errors": {"otp": ["No second factor enrolled."]},
            },
            status=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Token"},
        )
    if accounts.second_factor_verify(user=user, token=values.get("otp", "")) is None:
        # Counts as a failed sign-in: guessing codes meets the lockout like passwords.
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.get_username()},
            request=request._request,
        )
        return Response(
            {
                "detail": "Send the current code of your authenticator app (or a "
                "recovery code) as otp.",
                "code": "otp_required",
                "errors": {"otp": ["Wrong or missing code."]},
            },
            status=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Token"},
        )
    return None


def _current_token(request):
    """The device token the request came with (None when signed in by session)."""
    return request.auth if isinstance(request.auth, DeviceToken) else None


class LogoutApi(APIView):
    """Sign this device out: the token the request came with answers 401 from now on."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        token = _current_token(request)
        if token is None:
            raise ValidationFailed(
                _("Sign out a device with its own token."), code="not_token_authenticated"
            )
        accounts.token_revoke(user=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """Sign every device of this user out."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        accounts.tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListApi(APIView):
    """The devices signed in with an API token: name, when, last use, expiry."""

    @extend_schema(responses={200: paginated(DeviceTokenOutput)})
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.device_token_list(user=request.user), request, view=self
        )
        data = DeviceTokenOutput(page, many=True, context={"current": _current_token(request)})
        return paginator.get_paginated_response(data.data)


class PasswordChangeApi(APIView):
    """Change the password; every other token and session of the user stops working."""

    @extend_schema(request=PasswordChangeInput, responses={204: None})
    def post(self, request):
        params = PasswordChangeInput(data=request.data)
        params.is_valid(raise_exception=True)
        accounts.password_change(
            user=request.user,
            old_password=params.validated_data["old_password"],
            new_password=params.validated_data["new_password"],
            keep=_current_token(request),
        )
        if _current_token(request) is None:
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses={200: MeOutput})
    def get(self, request):
        user = request.user
        membership = getattr(user, "membership", None)
        organization = membership.organization if membership else None
        task_forces = (
            selectors.task_forces_of(organization_id=organization.pk) if organization else []
        )
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_superuser": user.is_superuser,
            "organization": organization,
            "role": membership.role if membership else None,
            "task_forces": task_forces,
        }
        return Response(MeOutput(data).data)


# --- organisations -------------------------------------------------------------------------


class OrganizationListApi(APIView):
    @extend_schema(
        parameters=[OrganizationListParams], responses={200: paginated(OrganizationOutput)}
    )
    def get(self, request):
        params = OrganizationListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        organizations = selectors.organization_list(**params.validated_data)
        return _paginated(self, request, organizations, OrganizationOutput)


class OrganizationDetailApi(APIView):
    @extend_schema(responses={200: OrganizationOutput})
    def get(self, request, organization_id):
        organization = selectors.organization_get(organization_id=organization_id)
        return Response(OrganizationOutput(organization).data)


# --- services ------------------------------------------------------------------------------


class ServiceListApi(APIView):
    @extend_schema(
        parameters=[ServiceListParams],
        responses={200: paginated(ServiceOutput)},
        description=(
            "Find services. `open_now=true` keeps services open at the request time in each "
            "location's time zone; `near=lat,lon` orders by great-circle distance and fills "
            "`distance_km`."
        ),
    )
    def get(self, request):
        params = ServiceListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        filters = selectors.ServiceFilters(
            stage=values.get("stage"),
            accepting=values.get("accepting"),
            open_at=timezone.now() if values.get("open_now") else None,
            near=values.get("near"),
            language=values.get("language"),
            q=values.get("q"),
            organization=values.get("organization"),
        )
        paginator = Pagination()
        cards = paginator.paginate_search(selectors.service_list(filters=filters), request)
        return paginator.get_paginated_response(cards)

    @extend_schema(request=ServiceInput, responses={201: ServiceOutput})
    @idempotent
    def post(self, request):
        params = ServiceInput(data=request.data)
        params.is_valid(raise_exception=True)
        data, related = split_service_input(dict(params.validated_data))
        service = services.service_create(
            actor=request.user,
            organization=_own_organization(request.user),
            data=data,
            **related,
        )
        service = selectors.service_get(service_id=service.pk)
        return Response(ServiceOutput(service).data, status=status.HTTP_201_CREATED)


class ServiceDetailApi(APIView):
    @extend_schema(responses={200: ServiceOutput})
    def get(self, request, service_id):
        return Response(ServiceOutput(selectors.service_get(service_id=service_id)).data)

    @extend_schema(request=ServiceInput, responses={200: ServiceOutput})
    def patch(self, request, service_id):
        service = selectors.service_get(service_id=service_id)
        params = ServiceInput(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        data, related = split_service_input(dict(params.validated_data))
        services.service_update(actor=request.user, service=service, data=data, **related)
        return Response(ServiceOutput(selectors.service_get(service_id=service_id)).data)


# --- locations -----------------------------------------------------------------------------


class LocationListApi(APIView):
    @extend_schema(parameters=[LocationListParams], responses={200: paginated(LocationOutput)})
    def get(self, request):
        params = LocationListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        locations = selectors.location_list(**params.validated_data)
        return _paginated(self, request, locations, LocationOutput)

    @extend_schema(request=LocationInput, responses={201: LocationOutput})
    @idempotent
    def post(self, request):
        params = LocationInput(data=request.data)
        params.is_valid(raise_exception=True)
        attrs = dict(params.validated_data)
        schedules = pop_schedules(attrs)
        location = services.location_create(
            actor=request.user,
            organization=_own_organization(request.user),
            data=attrs,
            schedules=schedules,
        )
        location = selectors.location_get(location_id=location.pk)
        return Response(LocationOutput(location).data, status=status.HTTP_201_CREATED)


class LocationDetailApi(APIView):
    @extend_schema(responses={200: LocationOutput})
    def get(self, request, location_id):
        return Response(LocationOutput(selectors.location_get(location_id=location_id)).data)

    @extend_schema(request=LocationInput, responses={200: LocationOutput})
    def patch(self, request, location_id):
        location = selectors.location_get(location_id=location_id)
        params = LocationInput(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        attrs = dict(params.validated_data)
        schedules = pop_schedules(attrs)
        services.location_update(
            actor=request.user, location=location, data=attrs, schedules=schedules
        )
        return Response(LocationOutput(selectors.location_get(location_id=location_id)).data)
