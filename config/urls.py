from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.shortcuts import redirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.decorators.http import require_safe

from newsletter.archive import reach
from newsletter.archive.sitemaps import SITEMAPS
from newsletter.health import health

admin.site.site_header = "Newsletter editor"
admin.site.site_title = "Newsletter editor"
admin.site.index_title = "Newsletters, issues and subscribers"


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links (the admin links none): send them to the SVG icon."""
    return redirect(static_url("newsletter/favicon.svg"))


urlpatterns = [
    path("admin/editor/", include("newsletter.editor.urls")),
    path("admin/editor/", include("newsletter.editor.history_urls")),
    path("admin/editor/", include("newsletter.editor.reach_urls")),
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="django.contrib.sitemaps.views.sitemap"),
    # Fixed paths before the archive's /<newsletter>/ catch-all.
    path("health/", health, name="health"),
    path("api/v1/", include("newsletter.api.urls")),  # the JSON API (docs/api.md)
    path("favicon.ico", favicon, name="favicon"),
    path("anymail/", include("anymail.urls")),  # providers' tracking webhooks → newsletter/bounces.py
    path("r/<int:link_id>.<str:signature>", reach.follow, name="short_link"),  # short links in mail: no language
]
# Public pages: English at today's URLs, Welsh under /cy/ (newsletter/languages.py, docs/translating.md).
urlpatterns += i18n_patterns(
    path("", include("newsletter.subscribers.urls")),
    path("", include("newsletter.archive.urls")),
    prefix_default_language=False,
)
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
