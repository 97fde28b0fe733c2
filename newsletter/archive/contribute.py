"""The public form through which colleagues suggest an item for the next issue (the editors' inbox is
newsletter.editor.contributions)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from newsletter import events
from newsletter.markup import markdown_problems
from newsletter.models import Contribution, Newsletter
from newsletter.ratelimit import allow, client_ip, retry_after

WINDOW = 3600


class ContributionForm(forms.ModelForm):
    # Hidden from people by CSS and from screen readers by aria-hidden; bots fill it in.
    website = forms.CharField(required=False, label=gettext_lazy("Leave this empty"))
    url = forms.URLField(label=gettext_lazy("Link (optional)"), required=False, max_length=1000, assume_scheme="https")

    class Meta:
        model = Contribution
        fields = ["title", "url", "summary", "contact_name", "contact_email"]
        labels = {
            "title": gettext_lazy("Title"),
            "summary": gettext_lazy("Summary"),
            "contact_name": gettext_lazy("Your name"),
            "contact_email": gettext_lazy("Your email"),
        }
        widgets = {"summary": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "summary": gettext_lazy("A few sentences for readers. Plain text or Markdown."),
            "contact_email": gettext_lazy("So the editor can ask you about it. It is not published."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_email"].required = True  # blank only for items from feeds
        self.fields["website"].widget.attrs.update(autocomplete="off", tabindex="-1")
        self.helper = FormHelper(self)
        self.helper.layout = Layout(
            Field("title"),
            Field("url"),
            Field("summary"),
            Field("contact_name"),
            Field("contact_email"),
            Div(Field("website"), css_class="hp-field", aria_hidden="true"),
            Submit("suggest", gettext_lazy("Send suggestion")),
        )

    def clean_summary(self):
        summary = self.cleaned_data["summary"]
        problems = markdown_problems(summary)
        if problems:
            raise forms.ValidationError(" ".join(problems))
        return summary

    def is_bot(self):
        return bool(self.data.get("website"))


@require_http_methods(["GET", "POST"])
def contribute(request, slug):
    newsletter = get_object_or_404(Newsletter, slug=slug)
    form = ContributionForm(request.POST or None)
    if request.method == "POST":
        limit = getattr(settings, "CONTRIBUTIONS_PER_HOUR", 5)
        if not allow(f"contribute:ip:{client_ip(request)}", limit, WINDOW):
            response = render(request, "contributions/limited.html", {"newsletter": newsletter}, status=429)
            response["Retry-After"] = str(retry_after(WINDOW))
            return response
        if form.is_valid():
            if not form.is_bot():  # a bot is thanked like anyone else, and nothing is stored
                contribution = form.save(commit=False)
                contribution.newsletter = newsletter
                contribution.save()
                events.contribution_received.send(sender=Contribution, contribution=contribution)
            return render(request, "contributions/thanks.html", {"newsletter": newsletter})
    return render(request, "contributions/form.html", {"newsletter": newsletter, "form": form})
