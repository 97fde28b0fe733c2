"""Helpers for the editor's browser tests (not a test module): log a Playwright page in as an editor."""

from io import StringIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client


def log_in_as_editor(context, live_server, username="ed"):
    """An editor made the way `make run` makes one (the Editors group), logged in through a session cookie
    set on the browser context: quicker than the login form, which tests/test_browser_editor.py covers."""
    User = get_user_model()
    if not User.objects.filter(username=username).exists():
        call_command("create_editor", "--username", username, "--email", f"{username}@example.org", stdout=StringIO())
    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def switch_language(page, name):
    """Follow the page's language switch to `name` ("Cymraeg", "English") as a reader would: the link in the
    navigation landmark labelled with the current language's word for "Language"."""
    switch = page.locator("nav.language-switch")
    switch.get_by_role("link", name=name).click()
    page.wait_for_load_state()
    return page.locator("html").get_attribute("lang")
