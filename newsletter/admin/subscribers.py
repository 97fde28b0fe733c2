"""Admin for subscribers: the list with counts per status, adding one person, CSV import and export,
and actions to unsubscribe, resend confirmation and erase. Every change goes through
newsletter.subscribers.lifecycle, so consent and suppression rules hold here too."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from newsletter.addresses import canonical_address
from newsletter.admin import subscriber_import
from newsletter.models import Newsletter, Subscriber, Subscription
from newsletter.subscribers import csvio, lifecycle
from newsletter.subscribers.forms import EditorAddSubscriberForm

EMBED_TEMPLATE = """<form action="{action}" method="post" accept-charset="utf-8">
  <input type="hidden" name="newsletters" value="{slug}">
  <input type="hidden" name="via" value="embed">
  <label for="nl-email">Email address</label>
  <input type="email" id="nl-email" name="email" required maxlength="254" autocomplete="email">
  <label for="nl-name">Name (optional)</label>
  <input type="text" id="nl-name" name="name" maxlength="200" autocomplete="name">
  <div style="position:absolute;left:-10000px" aria-hidden="true">
    <input type="text" name="website" tabindex="-1" autocomplete="off">
  </div>
  <button type="submit">Subscribe to {name}</button>
</form>"""


def embed_snippet(newsletter):
    """The copy-paste HTML of a subscribe form for one newsletter, for another site."""
    from django.utils.html import escape

    return EMBED_TEMPLATE.format(
        action=escape(f"{settings.SITE_URL}{reverse('subscriptions:subscribe')}"),
        slug=escape(newsletter.slug),
        name=escape(newsletter.name),
    )


def embed_code(newsletter):
    """A read-only field for the Newsletter admin page."""
    if not newsletter or not newsletter.pk:
        return "Save the newsletter first; its subscribe form to copy appears here."
    api = f"{settings.SITE_URL}{reverse('subscriptions:subscribe_api')}"
    return format_html(
        '<textarea readonly rows="13" cols="90" class="vLargeTextField embed-snippet">{}</textarea>'
        '<p class="help">Paste this into another site. It posts to this site, which sends the confirmation '
        'email. For scripts, POST JSON {{"email", "name", "newsletters": ["{}"]}} to {}.</p>',
        embed_snippet(newsletter),
        newsletter.slug,
        api,
    )


# The list ---------------------------------------------------------------------------------


def _exists(newsletter_id=None, status=None):
    subscriptions_ = Subscription.objects.filter(subscriber=OuterRef("pk"))
    if newsletter_id:
        subscriptions_ = subscriptions_.filter(newsletter_id=newsletter_id)
    if status:
        subscriptions_ = subscriptions_.filter(status=status)
    return Exists(subscriptions_)


class NewsletterFilter(admin.SimpleListFilter):
    """With the status filter, both apply to the same subscription: "active in Weekly Update"."""

    title = "newsletter"
    parameter_name = "newsletter"

    def lookups(self, request, model_admin):
        return [(str(n.pk), n.name) for n in Newsletter.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(_exists(self.value(), request.GET.get(StatusFilter.parameter_name)))
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Subscription.Status.choices

    def queryset(self, request, queryset):
        if self.value() and not request.GET.get(NewsletterFilter.parameter_name):
            return queryset.filter(_exists(status=self.value()))
        return queryset


class SubscriptionInline(admin.TabularInline):
    """Read only: statuses change through the actions, so consent and suppression are respected."""

    model = Subscription
    extra = 0
    max_num = 0
    can_delete = False
    fields = [
        "newsletter",
        "status",
        "method",
        "consented_at",
        "consent_text",
        "privacy_notice_version",
        "confirmed_at",
        "unsubscribed_at",
    ]
    readonly_fields = fields


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "newsletters", "created_at"]
    list_filter = [NewsletterFilter, StatusFilter]
    search_fields = ["email", "name"]
    readonly_fields = ["last_confirmation_sent_at", "created_at", "updated_at"]
    inlines = [SubscriptionInline]
    actions = ["unsubscribe", "resend_confirmation", "erase"]
    change_list_template = "admin/newsletter/subscriber/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("subscriptions__newsletter")

    def get_search_results(self, request, queryset, search_term):
        """An address typed with capitals or a Unicode domain finds the stored (normalised) one."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if "@" in search_term:
            found |= queryset.filter(email=canonical_address(search_term))
        return found, duplicates

    @admin.display(description="Newsletters (status)")
    def newsletters(self, obj):
        return ", ".join(
            f"{s.newsletter.name} ({s.get_status_display().lower()})"
            for s in sorted(obj.subscriptions.all(), key=lambda s: s.newsletter.name)
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting goes through erasure, below
        return actions

    # Adding one person.

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EditorAddSubscriberForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "name", "newsletters", "consent_given"]
        return ["email", "name", "language", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["email", *self.readonly_fields]

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            obj.name = lifecycle.clean_line(obj.name)
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        result = lifecycle.add_by_editor(
            data["email"], data["name"], list(data["newsletters"]), data["consent_given"], editor=request.user
        )
        obj.pk, obj.email, obj.name = result.subscriber.pk, result.subscriber.email, result.subscriber.name
        obj._state.adding = False
        for label, items, level in [
            ("Active now", result.activated, messages.SUCCESS),
            ("Pending until they confirm (a confirmation email was sent)", result.pending, messages.WARNING),
            ("Already active", result.unchanged, messages.INFO),
        ]:
            if items:
                self.message_user(request, f"{label}: {', '.join(n.name for n in items)}.", level)
        return None

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    # Erasure instead of deletion.

    def delete_model(self, request, obj):
        lifecycle.erase(obj)

    def delete_queryset(self, request, queryset):
        for subscriber in queryset:
            lifecycle.erase(subscriber)

    # Actions.

    @admin.action(description="Unsubscribe (from the filtered newsletter, or from all)", permissions=["change"])
    def unsubscribe(self, request, queryset):
        newsletter_id = request.GET.get(NewsletterFilter.parameter_name)
        newsletters = [int(newsletter_id)] if newsletter_id and newsletter_id.isdigit() else None
        changed = 0
        for subscriber in queryset:
            changed += bool(lifecycle.end_subscriptions(subscriber, newsletters, lifecycle.Reason.EDITOR).count)
        self.message_user(request, f"Unsubscribed {changed} subscriber(s).", messages.SUCCESS)

    @admin.action(description="Resend confirmation email (pending subscriptions)", permissions=["change"])
    def resend_confirmation(self, request, queryset):
        counts = lifecycle.resend_confirmations(queryset)
        plan = lifecycle.ConfirmationPlan
        minutes = settings.CONFIRMATION_MIN_INTERVAL // 60
        parts = [f"Queued {counts[plan.NOW]} confirmation email(s) now."]
        if counts[plan.LATER]:
            parts.append(
                f"{counts[plan.LATER]} will go out when {minutes} minutes have passed since their last one "
                "(one is planned)."
            )
        if counts[plan.SENT]:
            parts.append(
                f"{counts[plan.SENT]} skipped: mailed in the last {minutes} minutes, covering what is pending."
            )
        if counts[plan.NOTHING]:
            parts.append(f"{counts[plan.NOTHING]} skipped: nothing pending.")
        self.message_user(request, " ".join(parts), messages.SUCCESS)

    @admin.action(description="Delete personal data (erase; delivery figures stay, anonymous)", permissions=["delete"])
    def erase(self, request, queryset):
        if request.POST.get("confirm_erase") == "yes":
            count = 0
            for subscriber in queryset:
                lifecycle.erase(subscriber)
                count += 1
            self.message_user(request, f"Erased {count} subscriber(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase personal data?",
            "subscribers": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/newsletter/subscriber/erase_confirmation.html", context)

    # Counts, import and export.

    def changelist_view(self, request, extra_context=None):
        newsletter_id = request.GET.get(NewsletterFilter.parameter_name)
        counts = Subscription.objects.all()
        if newsletter_id and newsletter_id.isdigit():
            counts = counts.filter(newsletter_id=newsletter_id)
        totals = dict(counts.values_list("status").annotate(n=Count("id")))
        extra_context = {
            **(extra_context or {}),
            "status_counts": [(label, totals.get(value, 0), value) for value, label in Subscription.Status.choices],
            "export_query": request.GET.urlencode(),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="newsletter_subscriber_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="newsletter_subscriber_export"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return subscriber_import.import_view(self, request)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        newsletter = None
        newsletter_id = request.GET.get(NewsletterFilter.parameter_name)
        if newsletter_id:
            newsletter = Newsletter.objects.filter(pk=newsletter_id).first()
            if newsletter is None:
                return redirect("admin:newsletter_subscriber_changelist")
        status = request.GET.get(StatusFilter.parameter_name) or None
        if status not in (None, *Subscription.Status.values):
            status = None
        name = f"subscribers-{newsletter.slug if newsletter else 'all'}-{status or 'any'}-{timezone.localdate()}.csv"
        response = StreamingHttpResponse(csvio.export_csv(newsletter, status), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Read only: change a status through the subscriber's actions, which keep the consent record."""

    list_display = ["subscriber", "newsletter", "status", "method", "created_at", "confirmed_at"]
    list_filter = ["newsletter", "status", "method"]
    search_fields = ["subscriber__email"]
    list_select_related = ["subscriber", "newsletter"]
    raw_id_fields = ["subscriber"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
