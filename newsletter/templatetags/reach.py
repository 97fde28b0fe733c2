"""{% reach_figures issue %}: the issue's clicks per section and per link, for its admin page and Review and send."""

from django import template

from newsletter.editor import reach

register = template.Library()


@register.inclusion_tag("admin/newsletter/issue/reach.html")
def reach_figures(issue):
    return {"issue": issue, "reach": reach.figures(issue) if issue and issue.pk else None}
