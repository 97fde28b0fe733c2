"""The contributions inbox: colleagues suggest items; the editor accepts one into the current draft or declines it."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from newsletter.markup import markdown_problems
from newsletter.models import Contribution, Issue, Link, Section


class ContributionForm(forms.ModelForm):
    # Hidden from people by CSS and from screen readers by aria-hidden; bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")
    url = forms.URLField(label="Link (optional)", required=False, max_length=1000, assume_scheme="https")

    class Meta:
        model = Contribution
        fields = ["title", "url", "summary", "contact_name", "contact_email"]
        labels = {"contact_name": "Your name", "contact_email": "Your email"}
        widgets = {"summary": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "summary": "A few sentences for readers. Plain text or Markdown.",
            "contact_email": "So the editor can ask you about it. It is not published.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update(autocomplete="off", tabindex="-1")
        self.helper = FormHelper(self)
        self.helper.layout = Layout(
            Field("title"),
            Field("url"),
            Field("summary"),
            Field("contact_name"),
            Field("contact_email"),
            Div(Field("website"), css_class="hp-field", aria_hidden="true"),
            Submit("suggest", "Send suggestion"),
        )

    def clean_summary(self):
        summary = self.cleaned_data["summary"]
        problems = markdown_problems(summary)
        if problems:
            raise forms.ValidationError(" ".join(problems))
        return summary

    def is_bot(self):
        return bool(self.data.get("website"))


class NoDraft(Exception):
    """There is no draft to put the item in."""


def current_draft(newsletter):
    return (
        newsletter.issues.filter(status=Issue.Status.DRAFT)
        .order_by(F("issue_date").desc(nulls_last=True), "-created_at")
        .first()
    )


@transaction.atomic
def accept(contribution, issue=None):
    """Add the item as an article before the closing section of the current draft; return the section."""
    issue = issue or current_draft(contribution.newsletter)
    if issue is None:
        raise NoDraft(f"{contribution.newsletter} has no draft. Start next week's issue first.")
    closing = issue.sections.filter(parent=None, kind=Section.Kind.CLOSING).order_by("position").first()
    if closing:
        position = closing.position
        issue.sections.filter(position__gte=position).update(position=F("position") + 1)
    else:
        position = (issue.sections.aggregate(last=Max("position"))["last"] or 0) + 1
    credit = f"Suggested by {contribution.contact_name}" if contribution.contact_name else ""
    section = Section.objects.create(
        issue=issue,
        position=position,
        kind=Section.Kind.ARTICLE,
        heading=contribution.title,
        body_markdown=contribution.summary,
        source=credit,
    )
    if contribution.url:
        Link.objects.create(section=section, position=1, url=contribution.url, title=contribution.title, source=credit)
    contribution.status = Contribution.Status.ACCEPTED
    contribution.section = section
    contribution.decided_at = timezone.now()
    contribution.save(update_fields=["status", "section", "decided_at"])
    issue.rebuild_search_text()
    return section


def decline(contribution):
    contribution.status = Contribution.Status.DECLINED
    contribution.decided_at = timezone.now()
    contribution.save(update_fields=["status", "decided_at"])
