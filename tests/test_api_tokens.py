"""API tokens: hashed at rest, shown once in the admin, scoped, revocable; bad tokens are 401 as JSON."""

import re

import pytest
from django.db import connection

from newsletter.models import ApiToken
from tests.api_helpers import api, editor, token_for

pytestmark = pytest.mark.django_db


def test_the_raw_token_is_not_in_the_database_only_its_sha256():
    token, raw = token_for(editor())
    import hashlib

    assert ApiToken.objects.get(pk=token.pk).token_hash == hashlib.sha256(raw.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM newsletter_apitoken")
        rows = cursor.fetchall()
    assert raw not in repr(rows)
    assert ApiToken.lookup(raw) == token


def test_no_token_a_wrong_token_and_a_revoked_token_are_401_with_a_json_message():
    token, raw = token_for(editor())
    assert api(raw).get("/api/v1/issues/").status_code == 200
    missing = api().get("/api/v1/issues/")
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == "Bearer"
    assert "error" in missing.json()
    wrong = api(raw + "x").get("/api/v1/issues/")
    assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]
    token.revoke()
    assert api(raw).get("/api/v1/issues/").status_code == 401


def test_a_read_token_cannot_write_and_a_write_token_can(newsletter):
    user = editor()
    _, read = token_for(user)
    _, write = token_for(user, ApiToken.Scope.WRITE)
    body = {"newsletter": newsletter.slug, "title": "Weekly update 31.05.11"}
    refused = api(read).post("/api/v1/drafts/", body, format="json")
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]
    assert api(write).post("/api/v1/drafts/", body, format="json").status_code == 201


def test_a_token_works_only_while_its_editor_is_active_staff():
    user = editor()
    _, raw = token_for(user)
    user.is_active = False
    user.save()
    assert api(raw).get("/api/v1/issues/").status_code == 401


def test_a_token_without_the_editors_permissions_cannot_read():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("plain", "p@example.org", "pw", is_staff=True)
    _, raw = token_for(user)
    assert api(raw).get("/api/v1/issues/").status_code == 403


def test_last_used_is_recorded():
    token, raw = token_for(editor())
    assert token.last_used_at is None
    api(raw).get("/api/v1/issues/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_admin_shows_a_new_token_once_and_revokes_it(editor_client):
    response = editor_client.post(
        "/admin/newsletter/apitoken/add/", {"name": "intranet", "scope": "write"}, follow=True
    )
    assert response.status_code == 200
    raw = re.search(r"nlt_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    token = ApiToken.objects.get()
    assert token.user.username == "ed" and token.scope == "write" and token.hint == raw[:10]
    assert raw not in editor_client.get(f"/admin/newsletter/apitoken/{token.pk}/change/").content.decode()
    assert raw not in editor_client.get("/admin/newsletter/apitoken/").content.decode()
    assert api(raw).get("/api/v1/issues/").status_code == 200
    editor_client.post("/admin/newsletter/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api(raw).get("/api/v1/issues/").status_code == 401
