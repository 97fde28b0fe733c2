"""The editor's review-and-send pages, under /admin/editor/ and behind the admin's login."""

from django.contrib import admin
from django.urls import path

from newsletter.editor import compose, parts, topicsend
from newsletter.editor import review as editor

app_name = "editor"


def staff(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("issue/<int:pk>/review/", staff(editor.review), name="review"),
    path("issue/<int:pk>/preview/email/", staff(editor.email_preview), name="email_preview"),
    path("issue/<int:pk>/preview/web/", staff(editor.web_preview), name="web_preview"),
    path("issue/<int:pk>/test/", staff(editor.send_test), name="send_test"),
    path("issue/<int:pk>/check-links/", staff(editor.check_links), name="check_links"),
    path("issue/<int:pk>/approve/", staff(editor.approve), name="approve"),
    path("issue/<int:pk>/schedule/", staff(editor.schedule), name="schedule"),
    path("issue/<int:pk>/cancel-schedule/", staff(editor.cancel_schedule), name="cancel_schedule"),
    path("issue/<int:pk>/send/", staff(editor.send_now), name="send_now"),
    path("issue/<int:pk>/send/topics/", staff(topicsend.send_topics), name="send_topics"),
    path("issue/<int:pk>/compose/", staff(compose.compose), name="compose"),
    path("issue/<int:pk>/compose/data/", staff(compose.data), name="compose_data"),
    path("issue/<int:pk>/compose/issue/", staff(compose.save_issue), name="compose_issue"),
    path("issue/<int:pk>/compose/section/<int:section_id>/", staff(compose.save_section), name="compose_section"),
    path("issue/<int:pk>/compose/section/<int:section_id>/parts/", staff(parts.change_parts), name="compose_parts"),
    path("issue/<int:pk>/compose/structure/", staff(compose.change_structure), name="compose_structure"),
    path("issue/<int:pk>/compose/paste/", staff(compose.convert_paste), name="compose_paste"),
    path("issue/<int:pk>/compose/presence/", staff(compose.presence), name="compose_presence"),
    path("issue/<int:pk>/compose/preview/email/", staff(compose.email_preview), name="compose_email_preview"),
    path("issue/<int:pk>/compose/preview/text/", staff(compose.text_preview), name="compose_text_preview"),
    path("markdown-preview/", staff(editor.markdown_preview), name="markdown_preview"),
]
