"""Teams arrive from Mailchimp, Substack or listmonk: their exports are recognised by the header and mapped; those
who left or bounced there go onto the suppression list and never become active, here or by a later import."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from newsletter.models import Subscriber, Subscription, Suppression
from newsletter.subscribers import formats
from newsletter.subscribers.csvio import ImportFileError, export_csv, import_csv

pytestmark = pytest.mark.usefixtures("fresh_cache")

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
MAILCHIMP = EXPORTS / "mailchimp"
UTC = datetime.UTC


def command(*args):
    out = io.StringIO()
    call_command("import_subscribers", *map(str, args), stdout=out)
    return out.getvalue()


def status_of(email, newsletter):
    return Subscription.objects.get(subscriber__email=email, newsletter=newsletter).status


def test_a_mailchimp_export_with_its_unsubscribed_and_cleaned_files(newsletter):
    out = command(MAILCHIMP / "subscribed_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)
    command(MAILCHIMP / "unsubscribed_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)
    command(MAILCHIMP / "cleaned_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)

    assert "line 6: not-an-address" in out
    ann = Subscription.objects.get(subscriber__email="ann.archer@example.org")
    assert ann.status == Subscription.Status.ACTIVE and ann.method == Subscription.Method.IMPORT
    assert ann.subscriber.name == "Ann Archer"
    assert ann.consent_text.startswith("Imported from Mailchimp")
    assert ann.consented_at == datetime.datetime(2021, 3, 2, 9, 15, 40, tzinfo=UTC)  # CONFIRM_TIME
    bob = Subscription.objects.get(subscriber__email="bob.baker@example.org")
    assert bob.status == Subscription.Status.ACTIVE
    assert bob.consented_at == datetime.datetime(2022, 1, 10, 17, 0, tzinfo=UTC)  # no CONFIRM_TIME: OPTIN_TIME
    # Those who left or bounced in Mailchimp: suppressed, and nothing else kept about them.
    for address in ("dan.left@example.org", "erin.gone@example.org", "fay.bounce@example.org"):
        assert Suppression.is_suppressed(address)
        assert not Subscriber.objects.filter(email=address).exists()
    reasons = dict(Suppression.objects.values_list("email_hash", "reason"))
    from newsletter.models import email_hash

    assert reasons[email_hash("fay.bounce@example.org")] == Suppression.Reason.BOUNCED
    assert reasons[email_hash("dan.left@example.org")] == Suppression.Reason.UNSUBSCRIBED


def test_a_later_plain_import_cannot_re_add_who_left_in_mailchimp(newsletter):
    command(MAILCHIMP / "unsubscribed_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)
    command(MAILCHIMP / "cleaned_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)

    plain = (
        "email,name,newsletters,consent\n"
        f"dan.left@example.org,Dan,{newsletter.slug},yes\nfay.bounce@example.org,Fay,{newsletter.slug},yes\n"
    )
    report = import_csv(io.BytesIO(plain.encode()))
    again = command(MAILCHIMP / "subscribed_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)

    assert report.rejected_count == 2 and "only they can subscribe again" in report.rejected[0].reason
    assert not Subscription.objects.filter(subscriber__email__in=["dan.left@example.org", "fay.bounce@example.org"])
    assert "0 rows rejected" not in again  # not-an-address is still rejected; nothing else changed
    assert Subscription.objects.filter(status=Subscription.Status.ACTIVE).count() == 4  # ann, bob, carol, =cmd


def test_mailchimp_unsubscribed_ends_a_subscription_already_here(newsletter):
    plain = f"email,name,newsletters,consent\ndan.left@example.org,Dan,{newsletter.slug},yes\n"
    import_csv(io.BytesIO(plain.encode()))
    assert status_of("dan.left@example.org", newsletter) == Subscription.Status.ACTIVE

    out = command(MAILCHIMP / "unsubscribed_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)

    assert status_of("dan.left@example.org", newsletter) == Subscription.Status.UNSUBSCRIBED
    assert Suppression.is_suppressed("dan.left@example.org")
    assert "2 addresses that left the old tool are on the suppression list" in out


def test_importing_the_same_export_twice_changes_nothing(newsletter):
    path = MAILCHIMP / "subscribed_members_export_5f3a9c1d2e.csv"
    command(path, "--newsletter", newsletter.slug)
    before = list(Subscription.objects.order_by("pk").values_list("pk", "status", "consented_at", "consent_text"))

    out = command(path, "--newsletter", newsletter.slug)

    assert (
        list(Subscription.objects.order_by("pk").values_list("pk", "status", "consented_at", "consent_text")) == before
    )
    assert "4 already there" in out


def test_formula_cells_from_an_export_stay_neutralised_on_export(newsletter):
    command(MAILCHIMP / "subscribed_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)

    lines = "".join(export_csv(newsletter)).splitlines()

    assert any(line.startswith("'=cmd@example.org,") for line in lines)
    assert not any(line.startswith("=") for line in lines)


def test_substack_email_list_and_dashboard_exports(newsletter):
    command(EXPORTS / "substack_email_list.mypub.csv", "--newsletter", newsletter.slug)
    command(EXPORTS / "substack_subscribers_dashboard.csv", "--newsletter", newsletter.slug)

    gil = Subscription.objects.get(subscriber__email="gil@example.org")
    assert gil.status == Subscription.Status.ACTIVE and gil.consent_text.startswith("Imported from Substack")
    assert gil.consented_at == datetime.datetime(2023, 9, 1, 8, 0, tzinfo=UTC)
    assert status_of("hana@example.org", newsletter) == Subscription.Status.ACTIVE
    assert Suppression.is_suppressed("ivan@example.org")  # email_disabled
    assert not Subscriber.objects.filter(email="ivan@example.org").exists()
    jo = Subscription.objects.get(subscriber__email="jo@example.org")
    assert jo.subscriber.name == "Jo Jones" and jo.status == Subscription.Status.ACTIVE


def test_listmonk_export(newsletter):
    command(EXPORTS / "listmonk_subscribers.csv", "--newsletter", newsletter.slug)

    kim = Subscription.objects.get(subscriber__email="kim@example.org")
    assert kim.subscriber.name == "Kim Kaur" and kim.status == Subscription.Status.ACTIVE
    assert kim.consent_text.startswith("Imported from listmonk")
    assert kim.consented_at == datetime.datetime(2023, 3, 4, 10, 20, 30, tzinfo=UTC)
    assert Suppression.is_suppressed("lee@example.org") and Suppression.is_suppressed("max@example.org")
    assert Subscriber.objects.count() == 1


def test_any_other_csv_with_a_column_mapping_on_the_command_line(newsletter):
    out = command(
        EXPORTS / "other_tool.csv",
        "--newsletter",
        newsletter.slug,
        "--map",
        "email=E-mail,name=Full name,consent_date=Joined on,status=State",
        "--source",
        "OldTool",
    )

    nia = Subscription.objects.get(subscriber__email="nia@example.org")
    assert nia.status == Subscription.Status.ACTIVE and nia.subscriber.name == "Nia North"
    assert nia.consent_text.startswith("Imported from OldTool")
    assert nia.consented_at == datetime.datetime(2023, 10, 1, tzinfo=UTC)
    assert Suppression.is_suppressed("oli@example.org") and Suppression.is_suppressed("pat@example.org")
    assert "line 5: quinn@example.org: unknown status “maybe” in “State”" in out


def test_an_unknown_csv_without_a_mapping_is_refused_with_how_to_map_it(newsletter):
    with pytest.raises(CommandError, match="--map email=COLUMN"):
        command(EXPORTS / "other_tool.csv", "--newsletter", newsletter.slug)
    with pytest.raises(CommandError, match="No column “Mail” in the file; its header has “E-mail”"):
        command(EXPORTS / "other_tool.csv", "--newsletter", newsletter.slug, "--map", "email=Mail")
    with pytest.raises(CommandError, match="unknown field “colour”"):
        command(EXPORTS / "other_tool.csv", "--newsletter", newsletter.slug, "--map", "email=E-mail,colour=x")
    with pytest.raises(CommandError, match="Choose the newsletter"):
        command(EXPORTS / "listmonk_subscribers.csv")
    assert not Subscriber.objects.exists() and not Suppression.objects.exists()


def test_an_oversize_file_is_refused_before_anything_is_read(newsletter, settings):
    settings.SUBSCRIBER_IMPORT_MAX_BYTES = 200

    with pytest.raises(CommandError, match=r"too large \(.* bytes; the limit is 200, set by SUBSCRIBER_IMPORT_MAX"):
        command(MAILCHIMP / "subscribed_members_export_5f3a9c1d2e.csv", "--newsletter", newsletter.slug)
    assert not Subscriber.objects.exists()


def test_a_file_that_stops_being_csv_leaves_nothing(newsletter):
    rows = "".join(f"reader{n}@example.org,Reader,{newsletter.slug},yes\n" for n in range(2500))
    broken = f"email,name,newsletters,consent\n{rows}late@example.org,{'x' * 200_000},{newsletter.slug},yes\n"

    with pytest.raises(ImportFileError, match="Line 2502 is not valid CSV"):
        import_csv(io.BytesIO(broken.encode()))
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    ("header", "source", "status"),
    [
        (["Email Address", "First Name", "MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME"], "Mailchimp", "subscribed"),
        (["Email Address", "OPTIN_TIME", "UNSUB_TIME", "UNSUB_REASON"], "Mailchimp", "unsubscribed"),
        (["Email Address", "OPTIN_TIME", "CLEAN_TIME"], "Mailchimp", "bounced"),
        (["email", "active_subscription", "expiry", "email_disabled", "created_at"], "Substack", None),
        (["uuid", "email", "name", "attributes", "status", "created_at", "updated_at"], "listmonk", None),
    ],
)
def test_each_tool_is_recognised_by_its_header(header, source, status):
    mapping = formats.recognise(header)

    assert mapping.source == source
    if status:
        assert mapping.fixed_status == status and not mapping.status


def test_dates_in_the_forms_exports_write():
    assert formats.parse_date("2013-06-25 17:38:27") == datetime.datetime(2013, 6, 25, 17, 38, 27, tzinfo=UTC)
    assert formats.parse_date("2022-05-20T16:52:22.654Z").microsecond == 654000
    go = formats.parse_date("2022-11-13 08:00:00.5 +0100 +0100")
    assert go == datetime.datetime(2022, 11, 13, 7, 0, tzinfo=UTC)
    with pytest.raises(formats.RowError, match="is not a date"):
        formats.parse_date("last Tuesday")
