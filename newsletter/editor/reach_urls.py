"""An issue's click figures as CSV, under /admin/editor/ and behind the admin's login (newsletter/editor/reach.py)."""

from django.contrib import admin
from django.urls import path

from newsletter.editor import reach

app_name = "reach"

urlpatterns = [path("issue/<int:pk>/clicks.csv", admin.site.admin_view(reach.export_csv), name="csv")]
