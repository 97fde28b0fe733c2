"""Bearer tokens: `Authorization: Bearer <token>`, looked up by its SHA-256; scopes read / write."""

import datetime

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from newsletter.models import ApiToken

LAST_USED_EVERY = datetime.timedelta(minutes=1)  # last_used_at is written at most this often per token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """No session, so no CSRF: a request is authenticated by its token alone."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header must be “Bearer <token>”.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The token is not valid.") from exc
        token = ApiToken.lookup(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, or has been revoked.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword  # so a missing or bad token is a 401 with WWW-Authenticate, not a 403


class TokenScope(permissions.BasePermission):
    """Any token reads; only a write token changes anything."""

    message = "This token is read-only: writing needs a token with the write scope."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        return request.method in permissions.SAFE_METHODS or token.can_write()


class TokenThrottle(throttling.SimpleRateThrottle):
    """Requests per token (so two scripts of one editor do not share a budget)."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
