"""An Atom feed of each newsletter's published issues."""

import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from newsletter.models import Newsletter, Section

FEED_LENGTH = 20


class NewsletterFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, slug):
        return get_object_or_404(Newsletter, slug=slug)

    def title(self, newsletter):
        return newsletter.name

    def subtitle(self, newsletter):
        return newsletter.description

    def link(self, newsletter):
        return newsletter.get_absolute_url()

    def items(self, newsletter):
        headings = Section.objects.filter(parent=None).order_by("position", "id").only("issue_id", "heading")
        issues = (
            newsletter.issues.published()
            .newest_first()
            .defer("search_text", "sign_off")
            .prefetch_related(Prefetch("sections", queryset=headings, to_attr="top_sections"))[:FEED_LENGTH]
        )
        for issue in issues:
            issue.newsletter = newsletter
        return issues

    def item_title(self, issue):
        return issue.title

    def item_description(self, issue):
        # Sanitised intro plus the section headings; the full issue is one click away.
        return render_to_string("archive/feed_item.html", {"issue": issue})

    def item_pubdate(self, issue):
        if issue.issue_date:
            return timezone.make_aware(datetime.datetime.combine(issue.issue_date, datetime.time(9)))
        return issue.created_at

    def item_updateddate(self, issue):
        return issue.updated_at

    def item_categories(self, issue):
        return [issue.category] if issue.category else []
