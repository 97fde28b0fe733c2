"""sitemap.xml: the home page, each newsletter's archive, every published issue and every topic page with sections."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from newsletter.models import Issue, Newsletter, Topic


class HomeSitemap(Sitemap):
    def items(self):
        return ["archive:home"]

    def location(self, item):
        return reverse(item)


class NewsletterSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Newsletter.objects.order_by("pk")

    def lastmod(self, newsletter):
        return newsletter.updated_at


class IssueSitemap(Sitemap):
    changefreq = "yearly"

    def items(self):
        return Issue.objects.published().select_related("newsletter").order_by("pk")

    def lastmod(self, issue):
        return issue.updated_at


class TopicSitemap(Sitemap):
    """Topics with at least one published section (an empty topic page has nothing to index)."""

    changefreq = "weekly"

    def items(self):
        published = Topic.objects.filter(
            sections__parent=None, sections__issue__status__in=Issue.PUBLISHED_STATUSES
        ).values("pk")
        return Topic.objects.filter(pk__in=published).select_related("newsletter").order_by("pk")


SITEMAPS = {"home": HomeSitemap, "newsletters": NewsletterSitemap, "issues": IssueSitemap, "topics": TopicSitemap}
