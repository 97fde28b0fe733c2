"""An editor moves a list from another tool in a real Chromium: uploads a CSV the product does not know, says which
column is which, sees the preview, imports; who left there ends up suppressed."""

import pytest

from newsletter.models import Subscriber, Subscription, Suppression
from tests.browser_helpers import log_in_as_editor
from tests.conftest import screenshot
from tests.services import require_service
from tests.test_browser_axe import AXE, DJANGO_ADMIN_EXCLUDE, FAILING_IMPACTS, run_axe

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN = """Kontakt,Wer,Seit,Zustand
uma@example.org,Uma Ullmann,2023-05-06,aktiv
"=vic@example.org",Vic Vogel,2023-05-07,subscribed
wes@example.org,Wes Wolf,2023-05-08,unsubscribed
"""


def test_upload_an_unknown_csv_map_it_preview_and_import(page, live_server, newsletter, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text(UNKNOWN, encoding="utf-8")
    log_in_as_editor(page.context, live_server)

    page.goto(f"{live_server.url}/admin/newsletter/subscriber/import/")
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()

    page.get_by_text("choose which column is which").wait_for()
    page.get_by_label("Email address").select_option("Kontakt")
    page.get_by_label("Name:", exact=True).select_option("Wer")
    page.get_by_label("Consent date").select_option("Seit")
    page.get_by_label("Status").select_option("Zustand")
    page.get_by_label("The tool it comes from").fill("Altes Tool")
    page.get_by_label(newsletter.name).check()
    page.get_by_role("button", name="Preview").click()

    preview = page.get_by_role("table", name="Preview: the first rows as they would be imported")
    preview.get_by_role("cell", name="Vic Vogel").wait_for()
    assert "unknown status “aktiv” in “Zustand”" in preview.inner_text()
    assert "2023-05-07 00:00 UTC" in preview.inner_text()
    assert not Subscriber.objects.exists()
    screenshot(page, "subscriber-import-mapping")
    violations = run_axe(page, AXE.read_text(), exclude=DJANGO_ADMIN_EXCLUDE) if AXE.exists() else None

    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("1 subscriptions activated").wait_for()

    vic = Subscription.objects.get(subscriber__email="=vic@example.org")
    assert vic.status == Subscription.Status.ACTIVE and vic.consent_text.startswith("Imported from Altes Tool")
    assert Suppression.is_suppressed("wes@example.org")
    assert not Subscriber.objects.filter(email__in=["uma@example.org", "wes@example.org"]).exists()
    rejects = page.locator(".import-rejects").inner_text()
    assert "uma@example.org" in rejects and "unknown status “aktiv” in “Zustand”" in rejects
    require_service(violations is not None, "the axe check needs axe-core (run `make axe`)")
    serious = [v for v in violations if v[1] in FAILING_IMPACTS]
    assert not serious, serious  # the mapping step with its preview passes axe
