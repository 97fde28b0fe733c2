from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from newsletter.archive.sitemaps import SITEMAPS
from newsletter.health import health

admin.site.site_header = "Newsletter editor"
admin.site.site_title = "Newsletter editor"
admin.site.index_title = "Newsletters, issues and subscribers"

urlpatterns = [
    path("admin/editor/", include("newsletter.editor.urls")),
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="django.contrib.sitemaps.views.sitemap"),
    # Fixed paths before the archive's /<newsletter>/ catch-all.
    path("health/", health, name="health"),
    path("anymail/", include("anymail.urls")),  # providers' tracking webhooks → newsletter/bounces.py
    path("", include("newsletter.subscribers.urls")),
    path("", include("newsletter.archive.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
