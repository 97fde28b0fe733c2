"""What happened, told to whoever listens (webhooks today): Django signals sent by the places that decide these
things. A leaf: it imports nothing of the app, so any layer may send them; the listeners connect in
NewsletterConfig.ready(). Receivers must not fail the sender: they queue work after the commit.

subscription_confirmed  subscriptions=[Subscription]   subscribers.lifecycle.confirm
subscription_ended      subscriber, subscriptions=[(subscription id, newsletter id)], reason, status
                                                       subscribers.lifecycle.end_subscriptions (the one rule)
issue_sent              issue_id                       sending.worker.finish
delivery_bounced        delivery, kind                 subscribers.bounces.record_bounce
contribution_received   contribution                   archive.contribute (the public form), the API, inbox.feeds,
                                                       inbox.mailin (held mail too)
"""

from django.dispatch import Signal

subscription_confirmed = Signal()
subscription_ended = Signal()
issue_sent = Signal()
delivery_bounced = Signal()
contribution_received = Signal()
