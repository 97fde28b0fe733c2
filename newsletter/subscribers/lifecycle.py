"""Subscribing, confirming, changing and leaving a list: plain functions used by the views, admin and commands.

Rules every function here keeps:

- An address is stored normalised (`newsletter.addresses.normalise_address`, the one normaliser):
  trimmed, lower case, its domain in ASCII (IDNA), so "Ann@Bücher.de" and "ann@xn--bcher-kva.de"
  are one subscriber.
- A subscription becomes active only by the person's own confirmation, or by an editor who
  records that consent was given. An import or an editor never re-activates a suppressed address
  or a subscription the person left: only the person's new confirmation does (and it lifts the
  suppression).
- Nothing a stranger sends changes what is stored about an existing subscriber: a name sent for a
  known address travels only in the confirmation link, and confirm() applies it.
- Subscriptions end in one place, `end_subscriptions`, whatever the door (reader, one-click,
  mailed unsubscribe, provider, editor, bounce, complaint, erasure); `RULES` says what each reason
  does. It is one compare-and-set UPDATE of the status, so it holds for every later send.
- Confirmation mails: newsletter.subscribers.confirmations (at most one per address per
  CONFIRMATION_MIN_INTERVAL; a throttled one is sent when the interval ends, never dropped).
"""

import dataclasses
import enum

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from newsletter import events
from newsletter.addresses import (  # noqa: F401
    CONTROL_CHARACTERS,
    MAX_ADDRESS_LENGTH,
    MAX_NAME_LENGTH,
    InvalidInput,
    clean_line,
    display_address,
    normalise_address,
)
from newsletter.models import Subscriber, Subscription, Suppression, email_hash, topic_key
from newsletter.subscribers.confirmations import ConfirmationPlan, request_confirmation

LEFT = (Subscription.Status.UNSUBSCRIBED, Subscription.Status.BOUNCED)
RECEIVING = (Subscription.Status.ACTIVE, Subscription.Status.PENDING)


# Consent ------------------------------------------------------------------------------


def record_consent(subscription, method, text, now):
    subscription.method = method
    subscription.consent_text = text
    subscription.privacy_notice_version = settings.PRIVACY_NOTICE_VERSION
    subscription.consented_at = now


def consent_text(language=""):
    """The wording a reader agrees to, in the language they read it in (settings CONSENT_TEXT, CONSENT_TEXT_CY)."""
    return settings.CONSENT_TEXT_CY if (language or "").startswith("cy") else settings.CONSENT_TEXT


def editor_consent_text(editor=None):
    who = getattr(editor, "get_username", lambda: "")()
    return settings.EDITOR_CONSENT_TEXT + (f" (recorded by {who})" if who else "")


# The reader's own actions ---------------------------------------------------------------------


@dataclasses.dataclass
class SubscribeResult:
    subscriber: Subscriber
    pending: list  # newsletters waiting for this person's confirmation
    already_active: list
    confirmation: ConfirmationPlan


def _subscriber_for(address, name, by_editor=False, language=""):
    """(subscriber, created): get or create; safe when two requests create one address at once.

    get_or_create creates inside a savepoint and, on the unique constraint's
    IntegrityError, reads the row the other transaction committed. A new subscriber
    gets the name; an existing one's empty name is filled only by an editor.
    """
    subscriber, created = Subscriber.objects.get_or_create(email=address, defaults={"name": name, "language": language})
    if by_editor and not created and name and not subscriber.name:
        subscriber.name = name
        subscriber.save(update_fields=["name", "updated_at"])
    return subscriber, created


@transaction.atomic
def subscribe(email, name, newsletters, method=Subscription.Method.FORM, topics=None, language=""):
    """A request from the subscribe form or the JSON endpoint: pending subscriptions and a confirmation mail.

    Already-active subscriptions are left alone (their consent record too); a
    subscription the person left becomes pending again, so re-joining needs a new
    confirmation. The caller answers the same whatever happened here. Anyone may send this, so
    a known address keeps its stored name: a new one travels in the confirmation link.
    `topics` ({newsletter id: topic ids}, empty or missing: everything) is recorded with the
    consent of each subscription made pending here; an active one keeps its choice. `language` (one of
    settings.LANGUAGES) is a new subscriber's; the confirmation mail is in it, and an existing subscriber's
    becomes it only when they confirm from that mail (its link opens the confirm page in that language).
    """
    address = normalise_address(email)
    name = clean_line(name)
    if not newsletters:
        raise InvalidInput(gettext("Choose at least one newsletter."))
    now = timezone.now()
    subscriber, created = _subscriber_for(address, name, language=language)
    new_name = "" if created or name == subscriber.name else name
    pending, active = [], []
    for newsletter in newsletters:
        subscription, _ = Subscription.objects.get_or_create(subscriber=subscriber, newsletter=newsletter)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.status == Subscription.Status.ACTIVE:
            active.append(newsletter)
            continue
        subscription.status = Subscription.Status.PENDING
        record_consent(subscription, method, consent_text(language), now)
        subscription.choose_topics((topics or {}).get(newsletter.pk, ()), method, now)
        subscription.save()
        pending.append(newsletter)
    plan = (
        request_confirmation(subscriber, name=new_name, language=language)
        if pending
        else ConfirmationPlan(ConfirmationPlan.NOTHING)
    )
    return SubscribeResult(subscriber, pending, active, plan)


@dataclasses.dataclass
class ConfirmResult:
    subscriber: Subscriber
    activated: list
    already_active: list


@transaction.atomic
def confirm(subscriber_id, newsletter_ids, name="", language=""):
    """Activate the pending subscriptions a confirmation link names; welcome mails follow. Idempotent.

    The link's name, if any, replaces the stored one when this activates something (a spent link
    changes nothing); so does `language`, the language of the page the person confirmed on. Raises
    Subscriber.DoesNotExist when the subscriber was erased meanwhile.
    """
    subscriber = Subscriber.objects.get(pk=subscriber_id)
    subscriptions = (
        Subscription.objects.select_for_update()
        .select_related("newsletter")
        .filter(subscriber=subscriber, newsletter_id__in=newsletter_ids)
        .order_by("newsletter__name")
    )
    activated, already = [], []
    for subscription in subscriptions:
        if subscription.status == Subscription.Status.PENDING:
            subscription.activate()
            if language:  # they agreed to the wording the confirm page showed, in its language
                subscription.consent_text = consent_text(language)
            subscription.save()
            activated.append(subscription)
        elif subscription.status == Subscription.Status.ACTIVE:
            already.append(subscription)
    if activated:
        subscriber.name = name or subscriber.name
        subscriber.language = language or subscriber.language
        subscriber.save(update_fields=["name", "language", "updated_at"])
        Suppression.lift(subscriber.email)
        from newsletter.subscribers.tasks import send_welcome

        for subscription in activated:
            transaction.on_commit(lambda pk=subscription.pk: send_welcome.delay(pk))
        events.subscription_confirmed.send(sender=Subscription, subscriptions=activated)
    return ConfirmResult(subscriber, [s.newsletter for s in activated], [s.newsletter for s in already])


# Leaving: the one rule, whatever the door ----------------------------------------------------------


class Reason(enum.StrEnum):
    """Why subscriptions end. Every door names its reason; RULES says what each one does."""

    READER = "reader"  # the preferences page: a newsletter unticked, or "Unsubscribe from all"
    ONE_CLICK = "one_click"  # RFC 8058 POST to /unsubscribe/<token>/ (the page's button sends the same)
    MAILED = "mailed"  # a message to the List-Unsubscribe mailto address
    PROVIDER = "provider"  # the sending provider's webhook: the recipient unsubscribed there
    EDITOR = "editor"  # an editor's Unsubscribe action in the admin
    BOUNCE = "bounce"  # one hard bounce, or SOFT_BOUNCE_LIMIT soft ones within SOFT_BOUNCE_DAYS
    COMPLAINT = "complaint"  # a spam complaint: an ARF report, or the provider's webhook
    ERASURE = "erasure"  # the person's data is deleted (preferences page or admin)
    IMPORTED = "imported"  # an import from another tool says they unsubscribed there (csvio, formats)


@dataclasses.dataclass(frozen=True)
class EndingRule:
    status: str  # what the active and pending subscriptions become
    suppression: str  # the Suppression.Reason the address is listed with
    whole_address: bool  # about the address itself: every newsletter, always suppressed, reason replaced


_LEAVE = EndingRule(Subscription.Status.UNSUBSCRIBED, Suppression.Reason.UNSUBSCRIBED, whole_address=False)
RULES = {
    Reason.READER: _LEAVE,
    Reason.ONE_CLICK: _LEAVE,
    Reason.MAILED: _LEAVE,
    Reason.PROVIDER: _LEAVE,
    Reason.EDITOR: _LEAVE,
    Reason.IMPORTED: _LEAVE,
    Reason.BOUNCE: EndingRule(Subscription.Status.BOUNCED, Suppression.Reason.BOUNCED, whole_address=True),
    Reason.COMPLAINT: EndingRule(Subscription.Status.UNSUBSCRIBED, Suppression.Reason.COMPLAINED, whole_address=True),
    Reason.ERASURE: EndingRule(Subscription.Status.UNSUBSCRIBED, Suppression.Reason.ERASED, whole_address=True),
}


@dataclasses.dataclass(frozen=True)
class Ended:
    count: int  # subscriptions this call ended
    status: str  # what they became
    suppressed: bool  # the address is on the suppression list after this call


def end_subscriptions(subscriber, newsletters=None, reason=Reason.READER):
    """End subscriptions for a reason: the one rule every way of leaving goes through.

    - Which end: the active and pending ones, of `newsletters` (objects or ids) or of every newsletter
      when None. Bounce, complaint and erasure are about the address, so they always act on every one.
    - What they become: bounced for a bounce, unsubscribed for everything else; unsubscribed_at and
      updated_at are now. One UPDATE, so a send that checks the status afterwards skips them; a second
      call changes nothing (idempotent).
    - Suppression (per address, and the sending worker skips a suppressed address for every
      newsletter): bounce, complaint and erasure always list the address, with their own reason.
      Leaving (reader, one-click, mailed, provider, editor) lists it as unsubscribed once no active
      subscription remains, so leaving one newsletter never stops another; a reason already on the
      list (bounced, complained, erased) is kept. Leaving one newsletter while staying on another is
      still final for that one: an import or an editor cannot re-activate a subscription that left.
    """
    reason = Reason(reason)
    rule = RULES[reason]
    if newsletters is not None and rule.whole_address:
        raise ValueError(f"{reason} ends every subscription of the address; do not name newsletters")
    now = timezone.now()
    with transaction.atomic():
        ending = Subscription.objects.filter(subscriber=subscriber, status__in=RECEIVING)
        if newsletters is not None:
            ending = ending.filter(newsletter__in=list(newsletters))
        ended = list(ending.select_for_update().values_list("pk", "newsletter_id"))  # told to events below
        count = ending.update(status=rule.status, unsubscribed_at=now, updated_at=now)
        # Then the person's row, as subscribe() does (subscriptions first): two leavings at once decide
        # "no active subscription remains" one after the other, the second seeing the first's commit.
        list(Subscriber.objects.select_for_update().filter(pk=subscriber.pk).values_list("pk", flat=True))
        suppress = rule.whole_address or not subscriber.subscriptions.filter(status=Subscription.Status.ACTIVE).exists()
        if suppress:
            Suppression.add(subscriber.email, rule.suppression, replace=rule.whole_address)
        if ended:
            events.subscription_ended.send(
                sender=Subscription, subscriber=subscriber, subscriptions=ended, reason=reason, status=rule.status
            )
    return Ended(count, rule.status, suppress)


def record_left_elsewhere(address, newsletters, *, bounced, note, now=None):
    """Another tool says this address left (unsubscribed) or bounced (Mailchimp's "cleaned"): it never becomes
    active here, and no later import or editor re-adds it (only the person's own confirmation does).

    - bounced: a bounce here (Reason.BOUNCE, every newsletter, suppressed as bounced).
    - unsubscribed: `newsletters` end (Reason.IMPORTED, the one rule: suppressed once no active subscription
      remains); one they never had here is recorded as left, with `note`, so an import cannot add it.
    - An address with no subscriber here is listed on the suppression list only (a hash: nothing is kept
      about someone who left). A reason already on the list is kept.
    Returns True when the address is suppressed afterwards.
    """
    subscriber = Subscriber.objects.filter(email=address).first()
    if subscriber is None:
        Suppression.add(address, Suppression.Reason.BOUNCED if bounced else Suppression.Reason.UNSUBSCRIBED, False)
        return True
    if bounced:
        return end_subscriptions(subscriber, reason=Reason.BOUNCE).suppressed
    now = now or timezone.now()
    for newsletter in newsletters:
        Subscription.objects.get_or_create(
            subscriber=subscriber,
            newsletter=newsletter,
            defaults={
                "status": Subscription.Status.UNSUBSCRIBED,
                "method": Subscription.Method.IMPORT,
                "consent_text": note,
                "unsubscribed_at": now,
            },
        )
    return end_subscriptions(subscriber, [n.pk for n in newsletters], Reason.IMPORTED).suppressed


def suppress_strangers(entries):
    """[(address, bounced)] that another tool says left or bounced and that have no subscriber here: listed on the
    suppression list in one query (record_left_elsewhere's rule for them; a reason already listed is kept)."""
    Suppression.objects.bulk_create(
        [
            Suppression(
                email_hash=email_hash(address),
                reason=Suppression.Reason.BOUNCED if bounced else Suppression.Reason.UNSUBSCRIBED,
            )
            for address, bounced in entries
        ],
        ignore_conflicts=True,
    )
    return len(entries)


# Preferences ----------------------------------------------------------------------------------


@dataclasses.dataclass
class PreferencesResult:
    left: list
    pending: list  # newly asked for: pending until confirmed
    waiting: list  # asked for before and still pending
    confirmation: ConfirmationPlan


@transaction.atomic
def update_preferences(subscriber, name, newsletters, topics=None, language=None):
    """Set the name, the wanted newsletters, (when `topics`, {newsletter id: ids}, is given) their topics and
    (when given) the language.

    Newsletters no longer wanted are left at once (Reason.READER). Newly wanted ones become pending
    and need a confirmation from the mailbox (the page may be a forwarded copy). Saving again while
    some are still pending asks for their confirmation once more: the plan says whether a mail goes
    now, goes when the throttle's interval ends, or went recently and already covers them.
    """
    subscriber.name = clean_line(name)
    subscriber.language = subscriber.language if language is None else language
    subscriber.save(update_fields=["name", "language", "updated_at"])
    wanted = {n.pk: n for n in newsletters}
    now = timezone.now()
    current = {s.newsletter_id: s for s in subscriber.subscriptions.select_related("newsletter")}
    unwanted = [s for pk, s in current.items() if pk not in wanted and s.status in RECEIVING]
    if unwanted:
        end_subscriptions(subscriber, [s.newsletter_id for s in unwanted], Reason.READER)
    pending, waiting = [], []
    if topics is not None:  # the owner's page: the choice applies at once, recorded with when and how
        for newsletter_id, chosen in topics.items():
            subscription = current.get(newsletter_id)
            held = newsletter_id in wanted and subscription and subscription.status in RECEIVING
            if held and subscription.topics != topic_key(chosen):
                subscription.choose_topics(chosen, Subscription.Method.FORM, now)
                subscription.save(update_fields=["topics", "topics_method", "topics_chosen_at", "updated_at"])
    for newsletter_id, newsletter in wanted.items():
        subscription = current.get(newsletter_id)
        if subscription and subscription.status == Subscription.Status.ACTIVE:
            continue
        if subscription and subscription.status == Subscription.Status.PENDING:
            waiting.append(newsletter)
            continue
        subscription = subscription or Subscription(subscriber=subscriber, newsletter=newsletter)
        subscription.status = Subscription.Status.PENDING
        record_consent(subscription, Subscription.Method.FORM, settings.CONSENT_TEXT, now)
        subscription.choose_topics((topics or {}).get(newsletter_id, ()), Subscription.Method.FORM, now)
        subscription.save()
        pending.append(newsletter)
    plan = request_confirmation(subscriber) if pending or waiting else ConfirmationPlan(ConfirmationPlan.NOTHING)
    return PreferencesResult([s.newsletter for s in unwanted], pending, waiting, plan)


def erase(subscriber):
    """Delete everything held about a person; their deliveries stay, anonymous, for the issue's figures."""
    with transaction.atomic():
        end_subscriptions(subscriber, reason=Reason.ERASURE)
        subscriber.delete()


# Editors ---------------------------------------------------------------------------------


@dataclasses.dataclass
class EditorAddResult:
    subscriber: Subscriber
    activated: list
    pending: list
    unchanged: list
    confirmation: ConfirmationPlan


@transaction.atomic
def add_by_editor(email, name, newsletters, consent_given, editor=None):
    """An editor adds one person. Active only where the editor records consent and the address
    was never suppressed or unsubscribed there; otherwise pending, and a confirmation is sent."""
    address = normalise_address(email)
    name = clean_line(name)
    if not newsletters:
        raise InvalidInput(gettext("Choose at least one newsletter."))
    now = timezone.now()
    suppressed = Suppression.is_suppressed(address)
    subscriber, _ = _subscriber_for(address, name, by_editor=True)
    activated, pending, unchanged = [], [], []
    for newsletter in newsletters:
        subscription, _ = Subscription.objects.select_for_update().get_or_create(
            subscriber=subscriber, newsletter=newsletter
        )
        if subscription.status == Subscription.Status.ACTIVE:
            unchanged.append(newsletter)
            continue
        may_activate = consent_given and not suppressed and subscription.status not in LEFT
        if may_activate:
            record_consent(subscription, Subscription.Method.ADMIN, editor_consent_text(editor), now)
            subscription.activate()
            activated.append(newsletter)
        else:
            subscription.status = Subscription.Status.PENDING
            record_consent(subscription, Subscription.Method.ADMIN, settings.CONSENT_TEXT, now)
            pending.append(newsletter)
        subscription.save()
    plan = request_confirmation(subscriber, force=True) if pending else ConfirmationPlan(ConfirmationPlan.NOTHING)
    return EditorAddResult(subscriber, activated, pending, unchanged, plan)


def resend_confirmations(subscribers):
    """Ask for a confirmation for each subscriber with a pending subscription, throttled.

    Returns {ConfirmationPlan.NOW: n, LATER: n, SENT: n, NOTHING: n}: sent now, sent when the
    interval ends, covered by a mail sent within it, nothing pending.
    """
    counts = dict.fromkeys(
        (ConfirmationPlan.NOW, ConfirmationPlan.LATER, ConfirmationPlan.SENT, ConfirmationPlan.NOTHING), 0
    )
    for subscriber in subscribers:
        with transaction.atomic():
            counts[request_confirmation(subscriber).when] += 1
    return counts
