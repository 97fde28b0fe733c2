"""Forms for the reader's pages (rendered with django-crispy-forms, bootstrap5 pack) and the subscriber admin.

Forms validate with the same functions the workflow uses (newsletter.subscribers.lifecycle),
so a form, the JSON endpoint and the CSV import refuse the same input with the same words.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from newsletter import languages
from newsletter.addresses import MAX_ADDRESS_LENGTH, MAX_NAME_LENGTH, InvalidInput, clean_line, normalise_address
from newsletter.models import Newsletter, Subscriber

HONEYPOT = "website"


def _address(value):
    try:
        return normalise_address(value)
    except InvalidInput as exc:
        raise forms.ValidationError(str(exc)) from exc


def _line(value, label=None):
    try:
        return clean_line(value, label)
    except InvalidInput as exc:
        raise forms.ValidationError(str(exc)) from exc


class NewsletterChoiceField(forms.MultipleChoiceField):
    """Newsletters by slug; choices come from a list the caller already has, so rendering runs no query."""

    def __init__(self, newsletters=(), **kwargs):
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(choices=[(n.slug, n.name) for n in newsletters], **kwargs)


class TopicChoiceField(forms.MultipleChoiceField):
    """The newsletters' topics as tick boxes (ids), all ticked unless the caller says otherwise."""

    def __init__(self, topics=(), **kwargs):
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        kwargs.setdefault("required", False)
        super().__init__(choices=topic_choices(topics), **kwargs)


def topic_choices(topics):
    topics = list(topics)
    several = len({t.newsletter_id for t in topics}) > 1
    return [(str(t.pk), f"{t.newsletter.name}: {t.name}" if several else t.name) for t in topics]


def topics_by_newsletter(topics, submitted):
    """{newsletter id: chosen topic ids}; ticking all of a newsletter's topics, or none, is "everything" (empty)."""
    submitted = {int(value) for value in submitted}
    offered, chosen = {}, {}
    for topic in topics:
        offered.setdefault(topic.newsletter_id, set()).add(topic.pk)
        if topic.pk in submitted:
            chosen.setdefault(topic.newsletter_id, set()).add(topic.pk)
    return {n: (set() if chosen.get(n, set()) == ids else chosen.get(n, set())) for n, ids in offered.items()}


def language_field(**kwargs):
    """The reader's language (Subscriber.language): each named in itself, as the language switch names them."""
    kwargs.setdefault("widget", forms.RadioSelect)
    return forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES, required=False, **kwargs)


def chosen_language(form, fallback):
    """The language the form chose, or `fallback` (the page's, or what the browser asks for)."""
    return form.cleaned_data.get("language") or fallback


TOPICS_HELP = gettext_lazy(
    "Every topic is ticked: you get everything, topics added later too. Untick what you do not want."
)


class SubscribeForm(forms.Form):
    """Email, optional name, which newsletters; plus a honeypot field people never see."""

    email = forms.CharField(
        label=gettext_lazy("Email address"),
        max_length=MAX_ADDRESS_LENGTH + 100,  # a clearer message than the browser's comes from clean_email
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    name = forms.CharField(
        label=gettext_lazy("Name (optional)"), required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    newsletters = NewsletterChoiceField(label=gettext_lazy("Newsletters"), required=True)
    language = language_field(
        help_text=gettext_lazy("The emails we send you and the pages their links open are in it.")
    )
    website = forms.CharField(
        label=gettext_lazy("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, newsletters=(), compact=False, topics=(), **kwargs):
        super().__init__(*args, **kwargs)
        newsletters = list(newsletters)
        self.topic_objects = list(topics)
        if self.topic_objects:  # the full page only: the archive's compact box stays query-free ("everything")
            self.fields["topics"] = TopicChoiceField(
                self.topic_objects, label=gettext_lazy("Topics"), help_text=TOPICS_HELP
            )
            self.initial.setdefault("topics", [str(t.pk) for t in self.topic_objects])
        self.newsletter_objects = {n.slug: n for n in newsletters}
        field = self.fields["newsletters"]
        field.choices = [(n.slug, n.name) for n in newsletters]
        field.error_messages["invalid_choice"] = gettext("Unknown newsletter: %(value)s.")
        field.error_messages["required"] = gettext("Choose at least one newsletter.")
        if len(newsletters) == 1:
            field.widget = forms.MultipleHiddenInput()
            self.initial.setdefault("newsletters", [newsletters[0].slug])
        if compact:  # the archive's box: the page's language (each language's page is cached apart)
            self.fields["language"].widget = forms.HiddenInput()
            self.initial.setdefault("language", languages.current())
        self.helper = FormHelper(self)
        self.helper.form_action = "subscriptions:subscribe"
        self.helper.form_class = "subscribe-form" + (" subscribe-form--compact" if compact else "")
        self.helper.attrs = {"novalidate": ""}
        # The subscribe endpoint takes no CSRF token (it also serves embedded forms), so archive
        # pages stay identical for every visitor and cacheable.
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Field("email"),
            Field("name"),
            Field("newsletters"),
            *([Field("topics")] if self.topic_objects else []),
            Field("language"),
            Div(Field(HONEYPOT), css_class="hp-field", aria_hidden="true"),
            HTML(
                format_html(
                    '<p class="form-text">{}</p>', gettext("We send a link to confirm; nothing arrives until you do.")
                )
            ),
            Submit("subscribe", pgettext_lazy("button", "Subscribe")),
        )

    def clean_email(self):
        return _address(self.cleaned_data["email"])

    def clean_name(self):
        return _line(self.cleaned_data["name"])

    def clean_newsletters(self):
        return [self.newsletter_objects[slug] for slug in dict.fromkeys(self.cleaned_data["newsletters"])]

    @property
    def chosen_topics(self):
        """{newsletter id: topic ids} for the lifecycle (empty: everything)."""
        return topics_by_newsletter(self.topic_objects, self.cleaned_data.get("topics") or ())

    def clean(self):
        # A hidden field's errors would not be shown: say them above the form.
        field = self.fields.get("newsletters")
        if field is not None and field.widget.is_hidden and "newsletters" in self.errors:
            self.add_error(None, self.errors["newsletters"])
        return super().clean()

    @property
    def is_bot(self):
        """Something filled in the field people cannot see."""
        return bool(self.data.get(HONEYPOT))


class PreferencesForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=MAX_NAME_LENGTH + 100)
    newsletters = NewsletterChoiceField(
        label=gettext_lazy("Newsletters you receive"),
        required=False,
        help_text=gettext_lazy(
            "Untick to stop at once. A newly ticked newsletter starts after you confirm from your inbox."
        ),
    )
    language = language_field(
        help_text=gettext_lazy(
            "Newsletters written in it come in it, and the pages their links open; others in their own."
        )
    )

    def __init__(self, *args, newsletters=(), topics=(), **kwargs):
        super().__init__(*args, **kwargs)
        newsletters = list(newsletters)
        self.newsletter_objects = {n.slug: n for n in newsletters}
        self.fields["newsletters"].choices = [(n.slug, n.name) for n in newsletters]
        self.topic_objects = list(topics)
        if self.topic_objects:
            self.fields["topics"] = TopicChoiceField(
                self.topic_objects,
                label=gettext_lazy("Topics you receive"),
                help_text=gettext_lazy(
                    "All ticked, or none: everything, topics added later too. Untick a newsletter above to stop it."
                ),
            )
        self.helper = FormHelper(self)
        self.helper.form_class = "preferences-form"
        self.helper.layout = Layout(
            Field("name"),
            Field("newsletters"),
            *([Field("topics")] if self.topic_objects else []),
            Field("language"),
            Submit("save", gettext_lazy("Save changes")),
        )

    @property
    def chosen_topics(self):
        if not self.topic_objects:
            return None
        return topics_by_newsletter(self.topic_objects, self.cleaned_data.get("topics") or ())

    def clean_name(self):
        return _line(self.cleaned_data["name"])

    def clean_newsletters(self):
        return [self.newsletter_objects[slug] for slug in self.cleaned_data["newsletters"]]


# Admin --------------------------------------------------------------------------------


class EditorAddSubscriberForm(forms.ModelForm):
    """The admin's add form: one person, their newsletters, and whether they gave consent."""

    email = forms.CharField(label="Email address", max_length=MAX_ADDRESS_LENGTH + 100)
    newsletters = forms.ModelMultipleChoiceField(queryset=Newsletter.objects.all(), widget=forms.CheckboxSelectMultiple)
    consent_given = forms.BooleanField(
        label="They agreed to receive these newsletters",
        required=False,
        help_text="Ticked: active at once, consent recorded as given to you. "
        "Unticked: pending, and they are emailed a link to confirm.",
    )

    class Meta:
        model = Subscriber
        fields = ["email", "name"]

    def clean_email(self):
        return _address(self.cleaned_data["email"])

    def clean_name(self):
        return _line(self.cleaned_data["name"])

    def validate_unique(self):
        """An existing address is fine: the editor is adding newsletters to that person."""


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Header row: email,name,newsletters,consent. Newsletters as slugs joined with ; "
        "and consent yes or no. Or another tool's export, or any CSV: you choose its columns next.",
    )
    send_confirmations = forms.BooleanField(
        label="Email a confirmation link to rows with consent “no”",
        required=False,
        help_text="Otherwise they stay pending until you use “Resend confirmation”.",
    )
    newsletters = forms.ModelMultipleChoiceField(
        queryset=Newsletter.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Newsletters (for another tool's export)",
        help_text="A Mailchimp, Substack or listmonk export, or any other CSV, has no newsletters column: "
        "tick the ones its people join. Not needed for our own header.",
    )


NOT_IN_FILE = ("", "— not in the file —")


class MappingForm(forms.Form):
    """Step two of an import of a CSV that is not ours: which column is which (none for a known tool's export),
    the newsletters its people join, and a preview before anything is written."""

    upload = forms.CharField(widget=forms.HiddenInput)
    email = forms.ChoiceField(label="Email address")
    name = forms.ChoiceField(label="Name", required=False)
    first_name = forms.ChoiceField(label="First name", required=False, help_text="With last name, when no name column")
    last_name = forms.ChoiceField(label="Last name", required=False)
    consent_date = forms.ChoiceField(label="Consent date", required=False, help_text="When they subscribed there")
    status = forms.ChoiceField(
        label="Status",
        required=False,
        help_text="Subscribed, pending, unsubscribed, bounced… (docs: Moving from another tool). "
        "Unsubscribed and bounced rows go onto the suppression list. No column: every row is subscribed.",
    )
    source = forms.CharField(
        label="The tool it comes from", max_length=60, initial="another tool", help_text="Recorded with the consent"
    )
    newsletters = forms.ModelMultipleChoiceField(
        queryset=Newsletter.objects.all(), widget=forms.CheckboxSelectMultiple, label="Newsletters they join"
    )
    send_confirmations = forms.BooleanField(
        label="Email a confirmation link to pending rows", required=False, help_text="Otherwise they stay pending."
    )

    COLUMN_FIELDS = ("email", "name", "first_name", "last_name", "consent_date", "status")

    def __init__(self, *args, header=(), known=False, **kwargs):
        super().__init__(*args, **kwargs)
        columns = [(h, h) for h in header if h]
        self.fields["email"].choices = [("", "— choose —"), *columns]
        for name in self.COLUMN_FIELDS[1:]:
            self.fields[name].choices = [NOT_IN_FILE, *columns]
        if known:  # a known tool's export: its mapping is fixed, only the newsletters are chosen
            for name in (*self.COLUMN_FIELDS, "source"):
                del self.fields[name]

    def clean_source(self):
        return _line(self.cleaned_data["source"])

    def choices(self):
        return {name: self.cleaned_data.get(name, "") for name in self.COLUMN_FIELDS}
