"""Subscribe, confirm, preferences and one-click unsubscribe: the reader's own pages. No login.

- subscribe answers the same page whatever the address's state (no enumeration), after
  the honeypot and the rate limits; it takes no CSRF token, because the embedded form
  posts it from other sites (double opt-in is the protection: nothing is sent until the
  mailbox's owner confirms).
- confirm and unsubscribe act only on POST: mail scanners follow GET links.
- unsubscribe accepts RFC 8058's `List-Unsubscribe=One-Click` POST without CSRF token and
  answers 200, never a redirect.
- every way of leaving calls lifecycle.end_subscriptions with its reason (the one rule).
- a page that mentions a confirmation email says what really happens to it (confirmations.py):
  sent now, sent in N minutes when the throttle's interval ends, or sent N minutes ago and covering
  what is pending. The subscribe answer stays the same for every address (no enumeration).
"""

import json
import math

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from newsletter import languages, ratelimit, tokens
from newsletter.models import Newsletter, Subscriber, Subscription, Topic, email_hash, topic_ids
from newsletter.subscribers import lifecycle
from newsletter.subscribers.confirmations import ConfirmationPlan
from newsletter.subscribers.forms import PreferencesForm, SubscribeForm, chosen_language

# The same for every address. A mail asked for again within CONFIRMATION_MIN_INTERVAL goes out when
# the interval ends, so "up to N minutes" is true for every request that needs one.
LIMITED_MESSAGE = gettext_lazy("Too many attempts from here. Please wait a while and try again.")


def _minutes(n):
    return ngettext("%(count)d minute", "%(count)d minutes", n) % {"count": n}


def done_message():
    minutes = _minutes(max(1, math.ceil(settings.CONFIRMATION_MIN_INTERVAL / 60)))
    return gettext(
        "Thank you. If the address can receive our email, a link to confirm is on its way: "
        "nothing is sent until you press it. It can take up to %(minutes)s; check your spam folder too."
    ) % {"minutes": minutes}


def confirmation_notice(plan, newsletters):
    """What the preferences page says about the confirmation mail for `newsletters`: what will really happen."""
    names = ", ".join(sorted(n.name for n in newsletters))
    if plan.when == ConfirmationPlan.NOW:
        return gettext("To start %(names)s, confirm from the email we are sending now.") % {"names": names}
    if plan.when == ConfirmationPlan.LATER:
        every = _minutes(max(1, math.ceil(settings.CONFIRMATION_MIN_INTERVAL / 60)))
        return gettext(
            "To start %(names)s, confirm from the email we will send in %(wait)s "
            "(we send at most one confirmation email every %(every)s); it will cover %(covered)s."
        ) % {
            "names": names,
            "wait": _minutes(max(1, plan.minutes())),
            "every": every,
            "covered": ", ".join(n.name for n in plan.newsletters),
        }
    if plan.when == ConfirmationPlan.SENT:
        minutes = plan.minutes()
        covered = ", ".join(n.name for n in plan.newsletters)
        if minutes < 1:
            return gettext("To start %(names)s, confirm from the email we sent just now; it covers %(covered)s.") % {
                "names": names,
                "covered": covered,
            }
        return gettext("To start %(names)s, confirm from the email we sent %(ago)s ago; it covers %(covered)s.") % {
            "names": names,
            "ago": _minutes(minutes),
            "covered": covered,
        }
    return ""


def _asked_language(request):
    """The language a reader is offered first: the page's when it is under a language prefix (/cy/…), else what
    the browser asks for (a cookie, then Accept-Language: Django's get_language_from_request)."""
    prefixed, _path = languages.split_path(request.path_info)
    if prefixed != languages.default():
        return prefixed
    return languages.supported(translation.get_language_from_request(request))


def _method(request):
    return Subscription.Method.EMBED if request.POST.get("via") == "embed" else Subscription.Method.FORM


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request):
    newsletters = list(Newsletter.objects.all())
    topics = list(Topic.objects.select_related("newsletter"))
    if request.method == "GET":
        wanted = request.GET.get("newsletter")
        initial = {"newsletters": [wanted]} if wanted else {}
        initial["language"] = _asked_language(request)
        form = SubscribeForm(initial=initial, newsletters=newsletters, topics=topics)
        return render(request, "subscriptions/subscribe.html", {"form": form})

    data = request.POST
    if len(newsletters) == 1 and not data.getlist("newsletters"):
        # The archive's box asks for no choice when there is only one newsletter.
        data = data.copy()
        data.setlist("newsletters", [newsletters[0].slug])
    form = SubscribeForm(data, newsletters=newsletters, topics=topics)
    if form.is_bot:
        return render(request, "subscriptions/subscribe_done.html", {"message": done_message()})
    if _limited_ip(request):
        return _too_many(request, form)
    if not form.is_valid():
        return render(request, "subscriptions/subscribe.html", {"form": form}, status=400)
    address = form.cleaned_data["email"]
    if _limited_address(address):
        return _too_many(request, form)
    lifecycle.subscribe(
        address,
        form.cleaned_data["name"],
        form.cleaned_data["newsletters"],
        _method(request),
        topics=form.chosen_topics,
        language=chosen_language(form, _asked_language(request)),
    )
    return render(request, "subscriptions/subscribe_done.html", {"message": done_message()})


def _limited_address(address):
    return not ratelimit.allow(
        f"subscribe:address:{email_hash(address)}", settings.SUBSCRIBE_RATE_PER_ADDRESS, settings.SUBSCRIBE_RATE_WINDOW
    )


def _limited_ip(request):
    return not ratelimit.allow(
        f"subscribe:ip:{ratelimit.client_ip(request)}", settings.SUBSCRIBE_RATE_PER_IP, settings.SUBSCRIBE_RATE_WINDOW
    )


def _too_many(request, form):
    response = render(
        request, "subscriptions/subscribe.html", {"form": form, "limited_message": LIMITED_MESSAGE}, status=429
    )
    response["Retry-After"] = str(ratelimit.retry_after(settings.SUBSCRIBE_RATE_WINDOW))
    return response


def _cors(response):
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["POST", "OPTIONS"])
def subscribe_api(request):
    """POST JSON {"email", "name", "newsletters": [slugs], "website": ""} (or the same as a form).

    200 {"ok": true, "message"}; 400 {"ok": false, "errors": {field: [messages]}}; 429 with Retry-After.
    The same honeypot, limits and answers as the form; any origin may call it (CORS).
    """
    if request.method == "OPTIONS":
        return _cors(JsonResponse({}, status=200))
    data = request.POST
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _cors(
                JsonResponse({"ok": False, "errors": {"__all__": [gettext("The body is not valid JSON.")]}}, status=400)
            )
        if not isinstance(payload, dict):
            return _cors(
                JsonResponse({"ok": False, "errors": {"__all__": [gettext("Send a JSON object.")]}}, status=400)
            )
        newsletters = payload.get("newsletters", [])
        if isinstance(newsletters, str):
            newsletters = [newsletters]
        data = {k: v for k, v in payload.items() if isinstance(v, str)}
        data["newsletters"] = [n for n in newsletters if isinstance(n, str)] if isinstance(newsletters, list) else []
        data = MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in data.items()})
    form = SubscribeForm(data, newsletters=Newsletter.objects.all())
    if form.is_bot:
        return _cors(JsonResponse({"ok": True, "message": done_message()}))
    if _limited_ip(request):
        return _cors_limited()
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return _cors(JsonResponse({"ok": False, "errors": errors}, status=400))
    if _limited_address(form.cleaned_data["email"]):
        return _cors_limited()
    lifecycle.subscribe(
        form.cleaned_data["email"],
        form.cleaned_data["name"],
        form.cleaned_data["newsletters"],
        Subscription.Method.EMBED,
        language=chosen_language(form, _asked_language(request)),
    )
    return _cors(JsonResponse({"ok": True, "message": done_message()}))


def _cors_limited():
    response = _cors(JsonResponse({"ok": False, "errors": {"__all__": [str(LIMITED_MESSAGE)]}}, status=429))
    response["Retry-After"] = str(ratelimit.retry_after(settings.SUBSCRIBE_RATE_WINDOW))
    return response


def _bad_link(request, message, status=400):
    return render(request, "subscriptions/bad_link.html", {"message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    try:
        subscriber_id, newsletter_ids, name = tokens.read_confirm_token(token)
    except tokens.BadToken as exc:
        return _bad_link(request, str(exc))
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return _bad_link(request, gettext("This link is no longer valid."))
    if request.method == "POST":
        try:
            # Confirming from the mail's link, on its page in the language chosen: that is their language.
            result = lifecycle.confirm(subscriber_id, newsletter_ids, name, language=languages.current())
        except Subscriber.DoesNotExist:
            return _bad_link(request, gettext("This link is no longer valid."))
        return render(
            request,
            "subscriptions/confirmed.html",
            {
                "result": result,
                "address": lifecycle.display_address(subscriber.email),
                "preferences_url": tokens.preferences_url(subscriber.pk),
            },
        )
    subs = subscriber.subscriptions.filter(newsletter_id__in=newsletter_ids).select_related("newsletter")
    return render(
        request,
        "subscriptions/confirm.html",
        {
            "address": lifecycle.display_address(subscriber.email),
            "pending": [s.newsletter for s in subs if s.status == Subscription.Status.PENDING],
            "active": [s.newsletter for s in subs if s.status == Subscription.Status.ACTIVE],
            "new_name": name if name != subscriber.name else "",  # shown, so the owner sees what Confirm sets
            "consent_text": lifecycle.consent_text(languages.current()),  # recorded as agreed on Confirm
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request, token):
    try:
        subscriber_id = tokens.read_preferences_token(token)
    except tokens.BadToken as exc:
        return _bad_link(request, str(exc))
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return _bad_link(request, gettext("We hold nothing about this address any more."), status=404)
    newsletters = list(Newsletter.objects.all())
    topics = list(Topic.objects.select_related("newsletter"))
    context = {"address": lifecycle.display_address(subscriber.email), "subscriber": subscriber}
    action = request.POST.get("action", "save")
    if request.method == "POST" and action == "erase" and request.POST.get("confirm_erase") == "yes":
        lifecycle.erase(subscriber)
        return render(request, "subscriptions/erased.html", context)
    if request.method == "POST" and action == "erase":
        context["erase_error"] = gettext("Tick the box to confirm that everything about you should be deleted.")
        form = None
    elif request.method == "POST" and action == "unsubscribe_all":
        lifecycle.end_subscriptions(subscriber, reason=lifecycle.Reason.READER)
        context["notice"] = gettext("You have left every newsletter. Nothing more will be sent to you.")
        form = None
    elif request.method == "POST":
        form = PreferencesForm(request.POST, newsletters=newsletters, topics=topics)
        if form.is_valid():
            result = lifecycle.update_preferences(
                subscriber,
                form.cleaned_data["name"],
                form.cleaned_data["newsletters"],
                topics=form.chosen_topics,
                language=form.cleaned_data["language"] or None,
            )
            notice = [gettext("Saved.")]
            if result.left:
                notice.append(gettext("You have left %(names)s.") % {"names": ", ".join(n.name for n in result.left)})
            if result.pending or result.waiting:
                notice.append(confirmation_notice(result.confirmation, result.pending + result.waiting))
            context["notice"] = " ".join(notice)
            form = None
        else:
            context["status"] = 400
    else:
        form = None
    subscriber.refresh_from_db()
    held = list(subscriber.subscriptions.select_related("newsletter").order_by("newsletter__name"))
    names = {t.pk: t.name for t in topics}
    for s in held:  # the consent record shows the topics too ("Everything" when none were chosen)
        s.topic_names = ", ".join(names[pk] for pk in sorted(topic_ids(s.topics)) if pk in names)
    if form is None:
        receiving = [s.newsletter.slug for s in held if s.status in lifecycle.RECEIVING]
        initial = {"name": subscriber.name, "newsletters": receiving, "topics": _ticked(topics, held)}
        initial["language"] = subscriber.language or _first_language(held)
        form = PreferencesForm(initial=initial, newsletters=newsletters, topics=topics)
    context.update({"form": form, "subscriptions": held})
    return render(request, "subscriptions/preferences.html", context, status=context.pop("status", 200))


def _first_language(subscriptions):
    """Shown for a subscriber who never chose a language: that of the first newsletter they receive."""
    receiving = [s.newsletter for s in subscriptions if s.status in lifecycle.RECEIVING]
    return receiving[0].languages[0] if receiving else languages.current()


def _ticked(topics, subscriptions):
    """The topic boxes to tick: a subscription's chosen topics, or all of its newsletter's for "everything"."""
    chosen = {s.newsletter_id: topic_ids(s.topics) for s in subscriptions}
    return [str(t.pk) for t in topics if not chosen.get(t.newsletter_id) or t.pk in chosen[t.newsletter_id]]


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET: a page with a button. POST with List-Unsubscribe=One-Click (RFC 8058, or that button): leave, 200."""
    try:
        subscriber_id, newsletter_id = tokens.read_unsubscribe_token(token)
    except tokens.BadToken as exc:
        return _bad_link(request, str(exc))
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    newsletter = Newsletter.objects.filter(pk=newsletter_id).first()
    context = {
        "subscriber": subscriber,
        "newsletter": newsletter,
        "address": lifecycle.display_address(subscriber.email) if subscriber else "",
        "preferences_url": tokens.preferences_url(subscriber.pk) if subscriber else "",
    }
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") != "One-Click":
            return _bad_link(request, gettext("This form was not sent as expected. Please use the Unsubscribe button."))
        if subscriber is not None:
            lifecycle.end_subscriptions(subscriber, [newsletter_id], lifecycle.Reason.ONE_CLICK)
        context["done"] = True
        return render(request, "subscriptions/unsubscribe.html", context)
    context["receiving"] = bool(
        subscriber
        and newsletter
        and subscriber.subscriptions.filter(newsletter=newsletter, status__in=lifecycle.RECEIVING).exists()
    )
    return render(request, "subscriptions/unsubscribe.html", context)
