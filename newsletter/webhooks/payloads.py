"""What each event says. An address only in subscription events, and only to endpoints allowed to receive it;
a bounce or a contribution names nobody."""

from django.db.models import Count

from newsletter.models import Delivery, Issue, Newsletter
from newsletter.tokens import absolute


def _newsletter(newsletter_id):
    newsletter = Newsletter.objects.only("slug", "name").get(pk=newsletter_id)
    return {"slug": newsletter.slug, "name": newsletter.name}


def subscription(subscription_id, newsletter_id, email, endpoint, **extra):
    data = {"newsletter": _newsletter(newsletter_id), "subscription": subscription_id, **extra}
    if endpoint.send_addresses:
        data["email"] = email
    return data


def issue_sent(issue):
    counts = dict.fromkeys(Delivery.Status.values, 0)
    rows = Delivery.objects.filter(issue_id=issue.pk).values_list("status").annotate(n=Count("id"))
    counts.update(dict(rows))
    return {
        "newsletter": _newsletter(issue.newsletter_id),
        "issue": {
            "id": issue.pk,
            "title": issue.title,
            "url": absolute(issue.get_absolute_url()),
            "sent_at": issue.sent_at.isoformat() if issue.sent_at else None,
        },
        "counts": counts,
    }


def delivery_bounced(delivery, kind):
    issue = Issue.objects.only("newsletter_id", "title").get(pk=delivery.issue_id)
    return {
        "newsletter": _newsletter(issue.newsletter_id),
        "issue": {"id": issue.pk, "title": issue.title},
        "delivery": delivery.pk,
        "kind": kind,
    }


def contribution(contribution):
    return {
        "newsletter": _newsletter(contribution.newsletter_id),
        "contribution": {
            "id": contribution.pk,
            "title": contribution.title,
            "url": contribution.url,
            "summary": contribution.summary,
            "origin": contribution.origin,
            "status": contribution.status,
        },
    }
