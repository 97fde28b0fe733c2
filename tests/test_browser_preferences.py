"""The preferences page in Chromium: the consent record reads on a phone with nothing to scroll sideways."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from newsletter import tokens
from newsletter.models import Newsletter, Subscriber, Subscription
from tests.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def preferences_path():
    ann = Subscriber.objects.create(email="ann@example.org", name="Ann")
    for name in ("Community Budgets Weekly Update", "Children's Services Partnership Bulletin"):
        newsletter = Newsletter.objects.create(name=name, slug=name.split()[0].lower().strip("'s"))
        Subscription.objects.create(
            subscriber=ann,
            newsletter=newsletter,
            status=Subscription.Status.ACTIVE,
            consent_text="I agree to receive this newsletter by email and know I can leave at any time.",
            consented_at=timezone.now(),
            confirmed_at=timezone.now(),
        )
    return urlsplit(tokens.preferences_url(ann.pk)).path


@pytest.mark.parametrize("width", [390, 1280])
def test_the_consent_record_fits_the_screen_with_nothing_to_scroll_sideways(page, live_server, preferences_path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + preferences_path)

    record = page.get_by_role("region", name="Community Budgets Weekly Update")
    assert "I agree to receive this newsletter" in record.inner_text()
    assert page.get_by_role("region", name="Children's Services Partnership Bulletin").is_visible()
    # No box that scrolls on its own (a keyboard user could not reach it), and the page itself fits.
    scrollers = page.evaluate(
        """() => [...document.querySelectorAll('main *')].filter(el => {
               const style = getComputedStyle(el);
               return /(auto|scroll)/.test(style.overflowX) && el.scrollWidth > el.clientWidth;
           }).length"""
    )
    assert scrollers == 0
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(page, f"preferences-{width}")
