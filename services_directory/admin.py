"""Django admin for the directory. Org admins (staff with the directory permissions) see and
change only their own organisation's entries; writes go through the services, so opening
hours and groups stay in step exactly as through the API."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import DomainError
from services_directory import accounts, services
from services_directory.models import (
    Language,
    Location,
    Membership,
    Organization,
    Phone,
    Role,
    Schedule,
    Service,
    ServiceAtLocation,
    TaskForce,
)
from services_directory.web import AdminSignInForm


def _own_organization_id(request):
    membership = getattr(request.user, "membership", None)
    return membership.organization_id if membership else None


class OwnOrganizationAdmin(admin.ModelAdmin):
    """Scopes the changelist and object access to the user's organisation."""

    organization_path = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.organization_path}_id": _own_organization_id(request)})

    def _may_edit(self, request, obj) -> bool:
        if request.user.is_superuser:
            return True
        try:
            services.organization_admin_check(
                actor=request.user, organization_id=_own_organization_id(request)
            )
        except DomainError:
            return False
        return obj is None or self._organization_id_of(obj) == _own_organization_id(request)

    def _organization_id_of(self, obj):
        return getattr(obj, f"{self.organization_path}_id")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._may_edit(request, None)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        audit_admin_change(request, form, formsets, change)


def audit_admin_change(request, form, formsets, change) -> None:
    """Admin edits are audited like API edits: who changed which fields of what."""
    instance = form.instance
    inlines = sorted(
        formset.model._meta.model_name for formset in formsets if formset.has_changed()
    )
    organization_id = getattr(instance, "organization_id", None) or (
        instance.pk if isinstance(instance, Organization) else None
    )
    audit_record(
        actor=request.user,
        action=AuditAction.UPDATE if change else AuditAction.CREATE,
        target=instance,
        organization_id=str(organization_id) if organization_id else None,
        data={"fields": sorted(form.changed_data), "inlines": inlines, "via": "admin"},
    )


class ScheduleInline(admin.TabularInline):
    model = Schedule
    fields = ["byday", "opens_at", "closes_at", "valid_from", "valid_to", "description"]
    extra = 0
    fk_name = None


class ServiceScheduleInline(ScheduleInline):
    fk_name = "service"
    exclude = ["location", "service_at_location"]


class LocationScheduleInline(ScheduleInline):
    fk_name = "location"
    exclude = ["service", "service_at_location"]


class LanguageInline(admin.TabularInline):
    model = Language
    fk_name = "service"
    fields = ["code", "name", "note"]
    extra = 0


class PhoneInline(admin.TabularInline):
    model = Phone
    fk_name = "service"
    fields = ["number", "extension", "type", "description"]
    extra = 0


class ServiceAtLocationInline(admin.TabularInline):
    model = ServiceAtLocation
    fields = ["location", "description"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "location" and not request.user.is_superuser:
            kwargs["queryset"] = Location.objects.filter(
                organization_id=_own_organization_id(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Service)
class ServiceAdmin(OwnOrganizationAdmin):
    list_display = ["name", "organization", "stage", "accepting_referrals", "capacity_available"]
    list_filter = ["stage", "accepting_referrals", "status"]
    search_fields = ["name", "description"]
    inlines = [ServiceAtLocationInline, ServiceScheduleInline, LanguageInline, PhoneInline]

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["organization"]

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and not change:
            obj.organization_id = _own_organization_id(request)
        services.organization_admin_check(actor=request.user, organization_id=obj.organization_id)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        admin.ModelAdmin.save_related(self, request, form, formsets, change)
        services.opening_hours_rebuild(service_ids=[form.instance.pk])
        audit_admin_change(request, form, formsets, change)


@admin.register(Location)
class LocationAdmin(OwnOrganizationAdmin):
    list_display = ["name", "organization", "city", "time_zone"]
    search_fields = ["name", "address_1", "city"]
    inlines = [LocationScheduleInline]

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["organization"]

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and not change:
            obj.organization_id = _own_organization_id(request)
        services.organization_admin_check(actor=request.user, organization_id=obj.organization_id)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        admin.ModelAdmin.save_related(self, request, form, formsets, change)
        services.opening_hours_rebuild(
            service_ids=form.instance.service_at_locations.values_list("service_id", flat=True)
        )
        audit_admin_change(request, form, formsets, change)


@admin.register(Organization)
class OrganizationAdmin(OwnOrganizationAdmin):
    organization_path = "id"
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]
    exclude = ["group"]

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=_own_organization_id(request))

    def _organization_id_of(self, obj):
        return obj.pk

    def has_add_permission(self, request):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        if not request.user.is_superuser:
            raise PermissionDenied
        created = services.organization_create(
            actor=request.user,
            name=obj.name,
            kind=obj.kind,
            description=obj.description,
            **{
                f: getattr(obj, f)
                for f in ("alternate_name", "email", "website", "legal_status", "uri")
            },
        )
        obj.pk, obj.group = created.pk, created.group
        obj._state.adding = False


@admin.register(TaskForce)
class TaskForceAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "time_zone"]
    filter_horizontal = ["organizations"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username"]

    def save_model(self, request, obj, form, change):
        membership = services.membership_set(
            actor=request.user, user=obj.user, organization=obj.organization, role=obj.role
        )
        obj.pk = membership.pk


# --- sign-in locks (django-axes) ------------------------------------------------------------

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class SignInLockAdmin(AccessAttemptAdmin):
    """Locks and failure counts. An org admin sees those of its own members and lifts one by
    deleting it; each lift goes through ``accounts.signin_lock_lift`` and is audited."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        membership = getattr(request.user, "membership", None)
        if membership is None or membership.role != Role.ORG_ADMIN:
            return queryset.none()
        members = Membership.objects.filter(organization_id=membership.organization_id)
        return queryset.filter(username__in=members.values("user__username"))

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or self._is_org_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @staticmethod
    def _is_org_admin(request) -> bool:
        membership = getattr(request.user, "membership", None)
        return membership is not None and membership.role == Role.ORG_ADMIN

    def delete_model(self, request, obj):
        self._lift(request, [obj])

    def delete_queryset(self, request, queryset):
        self._lift(request, list(queryset))

    def _lift(self, request, attempts) -> None:
        for attempt in attempts:
            try:
                accounts.signin_lock_lift(
                    actor=request.user, username=attempt.username, ip_address=attempt.ip_address
                )
            except DomainError as exc:
                raise PermissionDenied(exc.message) from exc


# --- users: deactivation goes through the service -------------------------------------------

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ContinuumUserAdmin(UserAdmin):
    """Unticking "active" deactivates through ``accounts.user_deactivate``: every token and
    session of the user ends, and the audit trail says who did it."""

    actions = ["deactivate"]

    def save_model(self, request, obj, form, change):
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True  # the service makes the change, with its side effects
        super().save_model(request, obj, form, change)
        if deactivating:
            self._deactivate(request, obj)

    @admin.action(description="Deactivate the selected users (ends their tokens and sessions)")
    def deactivate(self, request, queryset):
        for user in queryset.filter(is_active=True):
            self._deactivate(request, user)

    @staticmethod
    def _deactivate(request, user) -> None:
        try:
            accounts.user_deactivate(actor=request.user, user=user)
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc


# The admin's login asks for the second factor too (services_directory.web).
admin.site.login_form = AdminSignInForm
