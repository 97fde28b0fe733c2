"""The editor's admin, one module per area."""

from newsletter.admin import apitokens, content, contributions, segments, subscribers, topics  # noqa: F401  (registers the ModelAdmins)
