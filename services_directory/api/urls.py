from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view

from services_directory.api import hsds, views


def _hsds(route: str, view: type, name: str) -> list:
    """An HSDS path with its trailing slash (in the OpenAPI document) and without (HSDS
    clients call ``/services``, not ``/services/``)."""
    unslashed = extend_schema_view(get=extend_schema(exclude=True))(
        type(f"Unslashed{view.__name__}", (view,), {})
    )
    return [
        path(f"hsds/{route}", view.as_view(), name=name),
        path(f"hsds/{route}".rstrip("/"), unslashed.as_view()),
    ]


hsds_paths = [
    *_hsds("", hsds.HsdsRootApi, "hsds"),
    *_hsds("services/", hsds.HsdsServiceListApi, "hsds-services"),
    *_hsds("services/<str:id>/", hsds.HsdsServiceApi, "hsds-service"),
    *_hsds("organizations/", hsds.HsdsOrganizationListApi, "hsds-organizations"),
    *_hsds("organizations/<str:id>/", hsds.HsdsOrganizationApi, "hsds-organization"),
    *_hsds("service_at_locations/", hsds.HsdsServiceAtLocationListApi, "hsds-service-at-locations"),
    *_hsds(
        "service_at_locations/<str:id>/",
        hsds.HsdsServiceAtLocationApi,
        "hsds-service-at-location",
    ),
    *_hsds("taxonomies/", hsds.HsdsTaxonomyListApi, "hsds-taxonomies"),
    *_hsds("taxonomies/<str:id>/", hsds.HsdsTaxonomyApi, "hsds-taxonomy"),
    *_hsds("taxonomy_terms/", hsds.HsdsTaxonomyTermListApi, "hsds-taxonomy-terms"),
    *_hsds("taxonomy_terms/<str:id>/", hsds.HsdsTaxonomyTermApi, "hsds-taxonomy-term"),
]

urlpatterns = [
    path("auth/token/", views.TokenLoginApi.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutApi.as_view(), name="auth-logout"),
    path("auth/logoutall/", views.LogoutAllApi.as_view(), name="auth-logoutall"),
    path("auth/tokens/", views.TokenListApi.as_view(), name="auth-tokens"),
    path("auth/password/", views.PasswordChangeApi.as_view(), name="auth-password"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("organizations/", views.OrganizationListApi.as_view(), name="organization-list"),
    path(
        "organizations/<uuid:organization_id>/",
        views.OrganizationDetailApi.as_view(),
        name="organization-detail",
    ),
    path("services/", views.ServiceListApi.as_view(), name="service-list"),
    path("services/<uuid:service_id>/", views.ServiceDetailApi.as_view(), name="service-detail"),
    path("locations/", views.LocationListApi.as_view(), name="location-list"),
    path(
        "locations/<uuid:location_id>/",
        views.LocationDetailApi.as_view(),
        name="location-detail",
    ),
    *hsds_paths,
]
