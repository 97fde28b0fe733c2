"""Fuzzing the subscriber CSV mappers: whatever the file, a row is mapped or refused with the module's own error."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.models import Subscription
from newsletter.subscribers import formats
from newsletter.subscribers.csvio import ImportFileError, import_csv

HEADERS = [
    ["Email Address", "First Name", "Last Name", "OPTIN_TIME", "CONFIRM_TIME", "UNSUB_TIME", "CLEAN_TIME"],
    ["email", "active_subscription", "email_disabled", "created_at"],
    ["uuid", "email", "name", "attributes", "status", "created_at"],
    ["E-mail", "Full name", "Joined", "State"],
]
cells = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    ["", "true", "false", "enabled", "blocklisted", "2024-03-01", "2013-06-25 17:38:27", "a@b.example", "=1+1"]
)


@settings(max_examples=300, deadline=None)
@given(header=st.lists(st.text(max_size=20), max_size=12) | st.sampled_from(HEADERS), data=st.data())
def test_recognise_and_apply_never_crash(header, data):
    mapping = formats.recognise(header) or formats.from_choices({"email": (header or ["x"])[0] or "x"})
    record = {name: data.draw(cells) for name in formats.clean_header(header)}
    try:
        row = mapping.apply(record)
    except formats.RowError as exc:
        assert str(exc)
    else:
        assert row.status in formats.STATUSES


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_a_mapping_spec_is_read_or_refused_clearly(spec):
    try:
        mapping = formats.parse_spec(spec)
    except formats.MappingError as exc:
        assert str(exc)
    else:
        assert mapping.email


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_date_text_is_a_date_or_a_row_error(text):
    try:
        value = formats.parse_date(text)
    except formats.RowError as exc:
        assert "is not a date" in str(exc)
    else:
        assert value.tzinfo is not None


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.sampled_from(HEADERS),
    rows=st.lists(st.lists(cells, min_size=0, max_size=8), max_size=6),
    junk=st.binary(max_size=40),
)
def test_import_of_any_file_writes_what_it_reports_or_refuses_it(newsletter, header, rows, junk):
    def quote(cell):
        return '"' + cell.replace('"', '""') + '"'

    text = "\n".join(",".join(quote(c) for c in line) for line in [header, *rows]) + "\n"
    mapping = None if header[0] != "E-mail" else formats.parse_spec("email=E-mail,name=Full name,status=State")
    active_before = Subscription.objects.filter(status=Subscription.Status.ACTIVE).count()  # examples share one db
    try:
        report = import_csv(io.BytesIO(text.encode() + junk), mapping=mapping, newsletters=[newsletter])
    except ImportFileError as exc:
        assert str(exc)
        return
    active = Subscription.objects.filter(status=Subscription.Status.ACTIVE).count()
    assert active - active_before <= report.activated
    assert report.rows == report.imported + report.rejected_count
