"""The editor's admin, one module per area."""

from newsletter.admin import (  # noqa: F401  (registers the ModelAdmins)
    apitokens,
    content,
    contributions,
    segments,
    sources,
    subscribers,
    topics,
    webhooks,
)
