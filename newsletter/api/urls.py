"""/api/v1/: the routes and the OpenAPI schema (/api/v1/schema/, public, JSON)."""

from django.urls import include, path
from rest_framework.renderers import JSONOpenAPIRenderer
from rest_framework.routers import SimpleRouter
from rest_framework.schemas import get_schema_view

from newsletter.api import views

app_name = "api"

router = SimpleRouter()
router.register("issues", views.IssueViewSet, basename="issue")
router.register("drafts", views.DraftViewSet, basename="draft")
router.register(r"drafts/(?P<draft_pk>\d+)/sections", views.SectionViewSet, basename="section")

schema = get_schema_view(
    title="Weekly update API",
    version="1",
    description="Published issues, drafts and their sections, contributions, subscriber counts (docs/api.md).",
    public=True,
    renderer_classes=[JSONOpenAPIRenderer],
    authentication_classes=[],
    permission_classes=[],
)

urlpatterns = [
    path("", include(router.urls)),
    path("contributions/", views.ContributionCreate.as_view(), name="contribution-create"),
    path("subscribers/counts/", views.SubscriberCounts.as_view(), name="subscriber-counts"),
    path("schema/", schema, name="schema"),
]
