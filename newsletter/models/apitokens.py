"""Editors' API tokens (newsletter.api): only a SHA-256 of each token is stored; the token itself is shown once."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "nlt_"


def token_hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True, user__is_staff=True)


class ApiToken(models.Model):
    """A per-editor token for the JSON API, scoped read or write; revoked, it authenticates nothing."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it (a script, an intranet page…).")
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The token's first characters, to recognise it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    def generate(self):
        """Give this (unsaved) token a new secret; returns the raw token, which is never stored."""
        raw = PREFIX + secrets.token_urlsafe(32)
        self.token_hash, self.hint = token_hash(raw), raw[:10]
        return raw

    @classmethod
    def lookup(cls, raw):
        return cls.objects.usable().select_related("user").filter(token_hash=token_hash(raw)).first()

    def revoke(self):
        ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())

    def can_write(self):
        return self.scope == self.Scope.WRITE
