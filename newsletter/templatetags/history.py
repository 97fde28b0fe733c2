"""{% approval_diff issue as diff %}: what changed since the last approved revision (editor/history.py)."""

from django import template

from newsletter.editor.history import approval_diff as _approval_diff

register = template.Library()


@register.simple_tag
def approval_diff(issue):
    return _approval_diff(issue)
