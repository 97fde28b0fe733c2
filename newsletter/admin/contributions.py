"""The contributions inbox: people's suggestions, feed items and mailed items side by side, with where each came
from; held mail apart until reviewed."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from newsletter.editor.contributions import NoDraft, accept, current_draft, decline, release
from newsletter.models import Contribution, Section


class InboxStatusFilter(admin.SimpleListFilter):
    """The inbox shows what is still to decide (new and held) unless asked for more: a declined item is hidden."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("undecided", "To decide (new and held)"), *Contribution.Status.choices, ("all", "All")]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "undecided") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or "undecided"
        if value == "all":
            return queryset
        if value == "undecided":
            return queryset.undecided()
        return queryset.filter(status=value)


@admin.register(Contribution)
class ContributionAdmin(admin.ModelAdmin):
    list_display = ["title", "newsletter", "came_from", "status", "dated", "suggested_heading", "used_in"]
    list_filter = [InboxStatusFilter, "origin", "newsletter", "feed"]
    search_fields = ["title", "summary", "contact_name", "contact_email", "source_name"]
    readonly_fields = ["status", "origin", "feed", "source_name", "section", "created_at", "decided_at"]
    list_select_related = ["newsletter", "feed", "section__issue"]
    actions = ["accept_into_draft", "accept_into_section", "release_held", "decline_selected"]

    @admin.display(description="From", ordering="origin")
    def came_from(self, obj):
        return obj.came_from

    @admin.display(description="Dated", ordering="published_at")
    def dated(self, obj):
        return obj.published_at or obj.created_at

    @admin.display(description="Used in")
    def used_in(self, obj):
        if not obj.section_id:
            return "–"
        url = reverse("admin:newsletter_issue_change", args=[obj.section.issue_id])
        return format_html('<a href="{}">{}</a>', url, obj.section.issue)

    def _accept(self, request, contribution, group=None):
        try:
            section = accept(contribution, group=group)
        except NoDraft as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        url = reverse("admin:newsletter_issue_change", args=[section.issue_id])
        where = f" in “{section.parent.heading}”" if section.parent_id else ""
        self.message_user(
            request,
            format_html('Added “{}”{} to <a href="{}">{}</a>.', contribution.title, where, url, section.issue),
            messages.SUCCESS,
        )

    def _chosen(self, queryset):
        return queryset.undecided().select_related("newsletter", "feed", "suggested_topic").order_by("created_at", "pk")

    @admin.action(description="Accept into the current draft")
    def accept_into_draft(self, request, queryset):
        # Oldest first: the draft then lists the week's items in the order they arrived.
        for contribution in self._chosen(queryset):
            self._accept(request, contribution)

    @admin.action(description="Accept into a section I choose…")
    def accept_into_section(self, request, queryset):
        chosen = list(self._chosen(queryset))
        newsletters = {c.newsletter_id for c in chosen}
        if len(newsletters) != 1:
            self.message_user(request, "Choose waiting items of one newsletter.", messages.ERROR)
            return None
        draft = current_draft(chosen[0].newsletter)
        if draft is None:
            self.message_user(
                request, f"{chosen[0].newsletter} has no draft. Start next week's issue first.", messages.ERROR
            )
            return None
        groups = draft.sections.filter(parent=None, kind=Section.Kind.DIGEST).order_by("position")
        if "section" in request.POST:
            raw = request.POST["section"]
            group = groups.filter(pk=raw).first() if raw.isdigit() else None
            if raw and group is None:
                self.message_user(request, "That section is not a digest group of the draft.", messages.ERROR)
                return None
            for contribution in chosen:
                if group is None:  # "as an article": no digest group, even when its source suggests one
                    contribution.suggested_heading = ""
                self._accept(request, contribution, group=group)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Accept into a section",
            "opts": self.model._meta,
            "contributions": chosen,
            "draft": draft,
            "groups": groups,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/newsletter/contribution/choose_section.html", context)

    @admin.action(description="Release held mail into the inbox")
    def release_held(self, request, queryset):
        held = list(queryset.held())
        for contribution in held:
            release(contribution)
        self.message_user(request, f"Released {len(held)} held item(s) into the inbox.", messages.SUCCESS)

    @admin.action(description="Decline")
    def decline_selected(self, request, queryset):
        waiting = list(queryset.undecided())
        for contribution in waiting:
            decline(contribution)
        self.message_user(request, f"Declined {len(waiting)} item(s).", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        waiting, held = Contribution.objects.waiting().count(), Contribution.objects.held().count()
        extra_context["title"] = f"Contributions inbox ({waiting} waiting, {held} held for review)"
        return super().changelist_view(request, extra_context)
