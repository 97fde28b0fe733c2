# Issue 13: segments of a newsletter's subscribers, by attributes already stored.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0012_issue_revisions"),
    ]

    operations = [
        migrations.CreateModel(
            name="Segment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(help_text="E.g. “@council.gov.uk colleagues”.", max_length=100)),
                (
                    "subscribed_since",
                    models.DateField(blank=True, help_text="Confirmed on or after this day.", null=True),
                ),
                (
                    "method",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("form", "Subscribe form"),
                            ("embed", "Embedded form or API"),
                            ("import", "CSV import"),
                            ("admin", "Added by an editor"),
                        ],
                        help_text="How they subscribed. Blank: any way.",
                        max_length=10,
                        verbose_name="consent given by",
                    ),
                ),
                (
                    "domain",
                    models.CharField(
                        blank=True,
                        help_text="E.g. council.gov.uk: addresses ending @council.gov.uk.",
                        max_length=253,
                        verbose_name="address domain",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "newsletter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="segments",
                        to="newsletter.newsletter",
                    ),
                ),
                (
                    "topics",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Subscribers who chose one of these topics, or everything. None ticked: any choice.",
                        related_name="segments",
                        to="newsletter.topic",
                    ),
                ),
            ],
            options={
                "ordering": ["newsletter", "name"],
                "constraints": [
                    models.UniqueConstraint(fields=("newsletter", "name"), name="segment_name_unique_per_newsletter")
                ],
            },
        ),
    ]
