"""URL wiring: the API under /api, Django admin, and each app's browser pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from analyses.api import urls as analyses_api_urls
from core.api import urls as core_api_urls
from core.api.routes import api_routes_register
from core.api.views import RootView
from core.views import api_not_found
from files.api import urls as files_api_urls
from hmm.api import urls as hmm_api_urls
from indexes.api import urls as indexes_api_urls
from jobs.api import urls as jobs_api_urls
from otus.api import urls as otus_api_urls
from references.api import urls as references_api_urls
from samples.api import urls as samples_api_urls
from software.api import urls as software_api_urls
from subtractions.api import urls as subtractions_api_urls
from users.api import urls as users_api_urls

# Each app's API routes; later apps add theirs here. Registered in core, where `GET /api` lists them.
api_patterns = api_routes_register(
    core_api_urls.urlpatterns,
    users_api_urls.urlpatterns,
    jobs_api_urls.urlpatterns,
    files_api_urls.urlpatterns,
    samples_api_urls.urlpatterns,
    references_api_urls.urlpatterns,
    otus_api_urls.urlpatterns,
    indexes_api_urls.urlpatterns,
    subtractions_api_urls.urlpatterns,
    hmm_api_urls.urlpatterns,
    analyses_api_urls.urlpatterns,
    software_api_urls.urlpatterns,
)

urlpatterns = [
    re_path(r"^api/?$", RootView.as_view(), name="api-root"),
    path("api/", include(api_patterns)),
    # Last under /api: whatever no route serves is Virtool's JSON 404, whatever DEBUG says.
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("admin/", admin.site.urls),
    # Each app's browser pages.
    path("", include("users.urls")),
    path("", include("jobs.urls")),
    path("", include("files.urls")),
    path("", include("samples.urls")),
    path("", include("references.urls")),
    path("", include("subtractions.urls")),
    path("", include("hmm.urls")),
    path("", include("analyses.urls")),
    path("", include("virtool_import.urls")),
]

# Styled pages for browsers, Virtool's JSON errors under /api.
handler400 = "core.views.bad_request"
handler403 = "core.views.forbidden"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
