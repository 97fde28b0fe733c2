from django.urls import path

from newsletter.archive import calendar, changes, topics
from newsletter.archive import contribute as contributions
from newsletter.archive import views as archive
from newsletter.archive.feeds import NewsletterFeed
from newsletter.pagecache import cache_archive_page

app_name = "archive"

# The short-link redirect /r/… is in config/urls.py: it has no language.
# Fixed paths come first: a newsletter slugged "search" or "tags" would be hidden by them.
urlpatterns = [
    path("", archive.home, name="home"),
    path("search/", archive.search, name="search"),
    path("tags/<slug:slug>/", archive.tag_detail, name="tag"),
    path("contribute/<slug:slug>/", contributions.contribute, name="contribute"),
    path("<slug:slug>/", archive.newsletter_archive, name="newsletter"),
    path("<slug:slug>/feed/", cache_archive_page(NewsletterFeed()), name="feed"),
    path("<slug:slug>/events.ics", calendar.newsletter_events, name="events"),
    path("<slug:newsletter_slug>/topics/<slug:slug>/", topics.topic_detail, name="topic"),
    path("<slug:newsletter_slug>/topics/<slug:slug>/feed/", cache_archive_page(topics.TopicFeed()), name="topic_feed"),
    path("<slug:newsletter_slug>/<slug:slug>/", archive.issue_detail, name="issue"),
    path("<slug:newsletter_slug>/<slug:slug>/changes/", changes.issue_changes, name="issue_changes"),
]
