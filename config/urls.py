from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz, readyz
from config.web import home
from core.api.errors import api_not_found
from services_directory.web import SignInView, two_factor_page

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/two-factor/", two_factor_page, name="two-factor"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home, name="home"),
    path("", include("coordination.web")),
    path("", include("services_directory.directory_pages")),
    path("", include("services_directory.organization_pages")),
    path("", include("referral.web")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file of its own: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("services_directory.api.urls")),
    path("api/v1/", include("referral.api.urls")),
    path("api/v1/", include("coordination.api.urls")),
    path("api/v1/", include("audit.urls")),
    path("fhir/", include("referral.fhir.views")),
    # Last: whatever under /api/ no view serves (malformed ids too) is a JSON 404, in debug too.
    re_path(r"^api/(?:.*/)?$", api_not_found),
]

handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
