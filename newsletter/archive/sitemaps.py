"""sitemap.xml: the home page, each newsletter's archive, every listed issue (published and
public: Issue.objects.listed()) with its lastmod, and every topic page with sections in listed issues.

Every page is listed in each language (English at its address, Welsh under /cy/), each entry with its
xhtml:link alternates and x-default (docs/translating.md), as the pages' own hreflang links say."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Q
from django.urls import reverse

from newsletter.models import Issue, Newsletter, Topic


class LanguagesSitemap(Sitemap):
    """Each item once per language in settings.LANGUAGES, with hreflang alternates and x-default."""

    i18n = True
    alternates = True
    x_default = True


class HomeSitemap(LanguagesSitemap):
    def items(self):
        return ["archive:home"]

    def location(self, item):
        return reverse(item)


class NewsletterSitemap(LanguagesSitemap):
    changefreq = "weekly"

    def items(self):
        return Newsletter.objects.order_by("pk")

    def lastmod(self, newsletter):
        return newsletter.updated_at


class IssueSitemap(LanguagesSitemap):
    changefreq = "yearly"

    def items(self):
        return Issue.objects.listed().select_related("newsletter").order_by("pk")

    def lastmod(self, issue):
        return issue.updated_at


class TopicSitemap(LanguagesSitemap):
    """Topics with at least one section in a listed issue (an empty topic page has nothing to index)."""

    changefreq = "weekly"

    def items(self):
        published = Topic.objects.filter(Q(sections__parent=None) & Issue.listed_q("sections__issue__")).values("pk")
        return Topic.objects.filter(pk__in=published).select_related("newsletter").order_by("pk")


SITEMAPS = {"home": HomeSitemap, "newsletters": NewsletterSitemap, "issues": IssueSitemap, "topics": TopicSitemap}
