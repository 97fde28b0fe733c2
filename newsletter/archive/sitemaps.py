"""sitemap.xml: the home page, each newsletter's archive and every published issue."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from newsletter.models import Issue, Newsletter


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


SITEMAPS = {"home": HomeSitemap, "newsletters": NewsletterSitemap, "issues": IssueSitemap}
