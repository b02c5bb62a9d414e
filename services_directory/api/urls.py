from django.urls import path

from services_directory.api import hsds, views

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
    path("hsds/", hsds.HsdsDirectoryApi.as_view(), name="hsds"),
]
