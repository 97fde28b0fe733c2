"""{% subscribe_box %}: the subscribe form shown on archive pages (base.html's `subscribe` block).

It reads the newsletters the page already has (`newsletter` on a newsletter or issue
page, `newsletters` on the home page) and runs no query of its own; elsewhere it asks
for the address only and the subscribe page asks which newsletters.
"""

from django import template

from newsletter.subscribers.forms import SubscribeForm

register = template.Library()


@register.inclusion_tag("subscriptions/_subscribe_box.html", takes_context=True)
def subscribe_box(context):
    newsletter = context.get("newsletter")
    newsletters = [newsletter] if newsletter is not None else list(context.get("newsletters") or [])
    # Its own ids, so a page with another form (with its own id_email) stays valid HTML.
    form = SubscribeForm(newsletters=newsletters, compact=True, auto_id="subscribe-%s")
    if not newsletters:
        del form.fields["newsletters"]
        form.helper.layout.pop(2)
    return {"form": form, "newsletter": newsletter}
