"""An issue's revision history, under /admin/editor/ and behind the admin's login (newsletter/editor/history.py)."""

from django.contrib import admin
from django.urls import path

from newsletter.editor import history

app_name = "history"

urlpatterns = [
    path("issue/<int:pk>/history/", admin.site.admin_view(history.history), name="history"),
    path(
        "issue/<int:pk>/history/<int:revision_id>/restore/",
        admin.site.admin_view(history.restore_view),
        name="restore",
    ),
]
