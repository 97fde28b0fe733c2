import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from newsletter.models import Issue, Newsletter, Section, Subscriber, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def weekly():
    return Newsletter.objects.create(name="Weekly", slug="weekly")


def test_issue_status_follows_the_workflow(weekly):
    issue = Issue.objects.create(newsletter=weekly, title="One", slug="one")
    S = Issue.Status
    assert Issue.objects.move(issue.pk, S.DRAFT, S.SCHEDULED)
    assert Issue.objects.move(issue.pk, S.SCHEDULED, S.DRAFT)  # cancelling a schedule
    assert Issue.objects.move(issue.pk, S.DRAFT, S.SENDING)
    assert Issue.objects.move(issue.pk, S.SENDING, S.PAUSED)
    assert Issue.objects.move(issue.pk, S.PAUSED, S.SENDING)
    assert Issue.objects.move(issue.pk, S.SENDING, S.SENT)
    with pytest.raises(ValidationError):
        Issue.objects.move(issue.pk, S.SENT, S.DRAFT)


def test_slugs_are_unique_per_newsletter(weekly):
    Issue.objects.create(newsletter=weekly, title="One", slug="one")
    other = Newsletter.objects.create(name="Other", slug="other")
    Issue.objects.create(newsletter=other, title="One", slug="one")
    with pytest.raises(IntegrityError):
        Issue.objects.create(newsletter=weekly, title="One again", slug="one")


def test_a_date_needs_its_precision(weekly):
    with pytest.raises(IntegrityError):
        Issue.objects.create(newsletter=weekly, title="x", slug="x", issue_date="2020-01-01", date_precision="")


def test_a_digest_item_needs_its_digest(weekly):
    issue = Issue.objects.create(newsletter=weekly, title="x", slug="x")
    with pytest.raises(IntegrityError):
        Section.objects.create(issue=issue, kind="digest_item", heading="Orphan")


def test_section_body_is_rendered_and_sanitised_on_save(weekly):
    issue = Issue.objects.create(newsletter=weekly, title="x", slug="x")
    section = Section.objects.create(issue=issue, body_markdown="Hi <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<script" not in section.body_html and "javascript:" not in section.body_html


def test_one_subscription_per_newsletter_and_addresses_compare_without_case(weekly):
    ann = Subscriber.objects.create(email="Ann@Example.ORG")
    assert ann.email == "ann@example.org"
    Subscription.objects.create(subscriber=ann, newsletter=weekly)
    with pytest.raises(IntegrityError):
        Subscription.objects.create(subscriber=ann, newsletter=weekly)
