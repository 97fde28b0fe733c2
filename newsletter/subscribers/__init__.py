"""Who receives what, with their consent: subscribing, confirming, changing, leaving.

lifecycle  subscribe, confirm, preferences, erase, editor adds; end_subscriptions: the one rule for every way of leaving
confirmations  the confirmation-mail throttle: sent now, or when the interval ends, never dropped
csvio      CSV import and export, streamed
bounces    what bounces, complaints and mailed unsubscribes do (mail arrives via newsletter.mail.inbound)
forms      the subscribe, preferences and editor forms
views      the public pages: subscribe, confirm, preferences, one-click unsubscribe, the JSON endpoint
urls       their URLs
tasks      the Celery tasks that send confirmation and welcome mail (stable names)

Addresses are normalised by newsletter.addresses, the one normaliser; tokens are newsletter.tokens.
"""
