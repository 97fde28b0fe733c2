"""A GIN index for archive search on PostgreSQL; nothing on SQLite.

The expression must stay identical to newsletter.search.SEARCH_VECTOR, or the
planner will not use the index.
"""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases (the same migrations run on SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0001_initial"),
    ]

    operations = [
        PostgresOnlySQL(
            sql="""
                CREATE INDEX IF NOT EXISTS issue_search_gin ON newsletter_issue USING gin ((
                    setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A')
                    || setweight(to_tsvector('english'::regconfig, COALESCE(search_text, '')), 'B')
                ))
            """,
            reverse_sql="DROP INDEX IF EXISTS issue_search_gin",
        ),
    ]
