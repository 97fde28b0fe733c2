"""{% subscribe_box %}: the subscribe form shown on archive pages (base.html's `subscribe` block).

It reads the newsletters the page already has (`newsletter` on a newsletter or issue
page, `newsletters` on the home page) and runs no query of its own; elsewhere it asks
for the address only and the subscribe page asks which newsletters.

The box is the same for every reader (no CSRF token: the subscribe endpoint takes none, and the
form is unbound), so its HTML is rendered once per process for each language and list of
newsletters (slug and name, all it shows of them) and reused: crispy-forms' rendering was about
half of an issue page's template time (issue 17, docs/performance.md).
"""

import functools
from types import SimpleNamespace

from django import template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from newsletter.subscribers.forms import SubscribeForm

register = template.Library()


@register.simple_tag(takes_context=True)
def subscribe_box(context):
    newsletter = context.get("newsletter")
    newsletters = [newsletter] if newsletter is not None else list(context.get("newsletters") or [])
    shown = tuple((n.slug, n.name) for n in newsletters)
    return _box(translation.get_language(), shown, newsletter is not None)


@functools.lru_cache(maxsize=256)
def _box(language, shown, one_newsletter):
    newsletters = [SimpleNamespace(slug=slug, name=name) for slug, name in shown]
    # Its own ids, so a page with another form (with its own id_email) stays valid HTML.
    form = SubscribeForm(newsletters=newsletters, compact=True, auto_id="subscribe-%s")
    if not newsletters:
        del form.fields["newsletters"]
        form.helper.layout.pop(2)
    html = render_to_string(
        "subscriptions/_subscribe_box.html", {"form": form, "newsletter": newsletters[0] if one_newsletter else None}
    )
    return mark_safe(html)  # rendered by the template, which escapes
