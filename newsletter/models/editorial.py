"""The editors' inbox: contributions suggested by colleagues and readers."""

from django.db import models

from newsletter.models.content import Newsletter
from newsletter.models.sections import Section


class ContributionQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=Contribution.Status.NEW)


class Contribution(models.Model):
    """An item a colleague suggests for the next issue, through the public form."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="contributions")
    title = models.CharField(max_length=200)
    url = models.URLField("link", max_length=1000, blank=True)
    summary = models.TextField(max_length=3000)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="Where it was used."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ContributionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["newsletter", "status"], name="contribution_inbox_idx")]

    def __str__(self):
        return self.title
