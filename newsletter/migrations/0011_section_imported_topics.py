# Issue 13: the topics the importer gave a section, so a re-run never undoes an editor's choice.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0010_topics_and_editions"),
    ]

    operations = [
        migrations.AddField(
            model_name="section",
            name="imported_topic_ids",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
    ]
