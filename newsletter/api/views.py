"""The API's views: published issues (read), drafts and their sections (read / write), contributions (create),
subscriber counts (read). Writes also need the editor's own admin permissions (DjangoModelPermissions), and are
recorded in the issue's history as theirs."""

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from rest_framework import generics, mixins, permissions, viewsets
from rest_framework.response import Response

from newsletter import events
from newsletter.api import serializers
from newsletter.api.auth import TokenScope
from newsletter.models import Contribution, Issue, Link, Newsletter, Section, Subscription
from newsletter.models.revisions import editing_as


class EditorPermissions(permissions.DjangoModelPermissions):
    """What the editor may do in the admin: view to read, add / change / delete to write."""

    perms_map = {**permissions.DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"]}


PERMISSIONS = [TokenScope, EditorPermissions]


def _sections():
    return Prefetch(
        "sections", queryset=Section.objects.order_by("parent_id", "position", "id").prefetch_related("links")
    )


class IssueViewSet(viewsets.ReadOnlyModelViewSet):
    """Listed issues (sending, sent or imported, and public: Issue.objects.listed()), newest first; `?newsletter=<slug>`
    narrows them. Unlisted and subscribers-only issues are not here, whoever's token asks (docs/api.md)."""

    permission_classes = PERMISSIONS

    def get_queryset(self):
        issues = Issue.objects.listed().select_related("newsletter").newest_first()
        if slug := self.request.query_params.get("newsletter"):
            issues = issues.filter(newsletter__slug=slug)
        if self.action == "retrieve":
            issues = issues.prefetch_related(_sections())
        return issues

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.PublishedIssueListSerializer
        return serializers.PublishedIssueSerializer


class _Editing:
    """Saves inside one transaction, recorded as the token's editor (the models' signals do the rest), and the
    issue's search text rebuilt as the admin and the composer rebuild it, so what the API wrote is found."""

    def perform_create(self, serializer):
        with transaction.atomic(), editing_as(self.request.user):
            _rebuild_search_text(serializer.save(**self.extra_fields()))

    def perform_update(self, serializer):
        with transaction.atomic(), editing_as(self.request.user):
            _rebuild_search_text(serializer.save())

    def perform_destroy(self, instance):
        with transaction.atomic(), editing_as(self.request.user):
            instance.delete()
            _rebuild_search_text(instance)

    def extra_fields(self):
        return {}


def _rebuild_search_text(saved):
    issue = saved if isinstance(saved, Issue) else Issue.objects.get(pk=saved.issue_id)
    issue.rebuild_search_text()


class DraftViewSet(
    _Editing,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Issues not sent yet (draft or scheduled): read, create, update. Editing a scheduled or approved issue
    withdraws its approval, as in the admin."""

    serializer_class = serializers.DraftSerializer
    permission_classes = PERMISSIONS

    def get_queryset(self):
        issues = Issue.objects.filter(status__in=Issue.APPROVABLE_STATUSES).select_related("newsletter")
        if slug := self.request.query_params.get("newsletter"):
            issues = issues.filter(newsletter__slug=slug)
        return issues.prefetch_related(_sections()).order_by("-created_at", "-id")


class SectionViewSet(_Editing, viewsets.ModelViewSet):
    """A draft's sections: read, add, change, remove."""

    serializer_class = serializers.SectionSerializer
    permission_classes = PERMISSIONS

    def issue(self):
        if not hasattr(self, "_issue"):
            drafts = Issue.objects.filter(status__in=Issue.APPROVABLE_STATUSES)
            self._issue = get_object_or_404(drafts, pk=self.kwargs["draft_pk"])
        return self._issue

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or "draft_pk" not in self.kwargs:
            return Section.objects.none()
        return (
            Section.objects.filter(issue=self.issue())
            .select_related("issue")
            .prefetch_related(Prefetch("links", queryset=Link.objects.order_by("position", "id")))
            .order_by("parent_id", "position", "id")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "draft_pk" in self.kwargs:
            context["issue"] = self.issue()
        return context

    def extra_fields(self):
        return {"issue": self.issue()}


class ContributionCreate(generics.CreateAPIView):
    """Suggest an item: it arrives in the editors' inbox as new."""

    queryset = Contribution.objects.all()
    serializer_class = serializers.ContributionSerializer
    permission_classes = PERMISSIONS

    def perform_create(self, serializer):
        contribution = serializer.save(origin=Contribution.Origin.API)
        events.contribution_received.send(sender=Contribution, contribution=contribution)


class SubscriberCounts(generics.GenericAPIView):
    """How many subscriptions each newsletter has, by status; never who."""

    queryset = Subscription.objects.all()
    serializer_class = serializers.SubscriberCountsSerializer
    permission_classes = PERMISSIONS
    pagination_class = None

    def get(self, request):
        statuses = Subscription.Status.values
        counts = {f"n_{s}": Count("subscriptions", filter=Q(subscriptions__status=s)) for s in statuses}
        rows = Newsletter.objects.order_by("name").annotate(**counts)
        data = [
            {"newsletter": row.slug, "name": row.name, "counts": {s: getattr(row, f"n_{s}") for s in statuses}}
            for row in rows
        ]
        return Response(self.get_serializer(data, many=True).data)
