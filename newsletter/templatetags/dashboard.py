from django import template

from newsletter.editor.dashboard import summary

register = template.Library()


@register.inclusion_tag("admin/newsletter_dashboard.html")
def newsletter_dashboard():
    return summary()
