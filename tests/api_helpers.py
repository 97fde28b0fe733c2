"""Helpers for the API tests: an editor (the Editors group) with a token of a chosen scope."""

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from newsletter.management.commands.create_editor import editors_group
from newsletter.models import ApiToken


def editor(username="ed"):
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw", is_staff=True)
    user.groups.add(editors_group())
    return user


def token_for(user, scope=ApiToken.Scope.READ, name="script"):
    token = ApiToken(user=user, name=name, scope=scope)
    raw = token.generate()
    token.save()
    return token, raw


def api(raw=None):
    client = APIClient()
    if raw:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
