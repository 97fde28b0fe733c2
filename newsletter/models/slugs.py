"""Slugs the site's own URLs use, which newsletters and issues may not take."""

from django.conf import settings
from django.core.exceptions import ValidationError

# URL paths the site uses beside /<newsletter>/ and /<newsletter>/<issue>/.
RESERVED_NEWSLETTER_SLUGS = frozenset(
    {
        "admin",
        "api",
        "search",
        "tags",
        "static",
        "media",
        "subscribe",
        "preferences",
        "unsubscribe",
        "contribute",
        "health",
        "anymail",
    }
)
RESERVED_ISSUE_SLUGS = frozenset({"feed", "events", "calendar", "topics"})


def _not_reserved(reserved):
    def validate(value):
        if value in reserved:
            raise ValidationError(f"“{value}” is used by the site's own pages; choose another slug.")

    return validate


def validate_newsletter_slug(value):
    # A language's prefix too: /cy/ is the Welsh site, not a newsletter called "cy".
    _not_reserved(RESERVED_NEWSLETTER_SLUGS | {code.lower() for code, _ in settings.LANGUAGES})(value)


def validate_issue_slug(value):
    _not_reserved(RESERVED_ISSUE_SLUGS)(value)
