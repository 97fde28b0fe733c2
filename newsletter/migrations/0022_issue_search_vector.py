"""A stored, GIN-indexed tsvector for archive search on PostgreSQL; nothing on SQLite (it searches by substring).

newsletter_issue.search_vector holds the issue's title (weight A) and search text (weight B), kept by a
trigger whenever a row is inserted or its title or search text changes, whichever door wrote it
(Issue.save(), Issue.rebuild_search_text(), bulk inserts, raw SQL); existing rows are filled here.
A trigger rather than a generated column: PostgreSQL refuses to change the type of a column a generated
column reads, so a later AlterField of the title would fail. The column is not a model field (the ORM
would load up to a megabyte of tsvector with every issue); newsletter.archive.search reads it by name.
It replaces migration 0002's expression index, which search no longer uses.
"""

from django.db import migrations

VECTOR = """
    setweight(to_tsvector('english'::regconfig, COALESCE({row}title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, COALESCE({row}search_text, '')), 'B')
"""

FORWARDS = f"""
ALTER TABLE newsletter_issue ADD COLUMN search_vector tsvector;
UPDATE newsletter_issue SET search_vector = {VECTOR.format(row="")};
CREATE FUNCTION newsletter_issue_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := {VECTOR.format(row="NEW.")};
    RETURN NEW;
END
$$;
CREATE TRIGGER issue_search_vector_insert BEFORE INSERT ON newsletter_issue
    FOR EACH ROW EXECUTE FUNCTION newsletter_issue_search_vector();
CREATE TRIGGER issue_search_vector_update BEFORE UPDATE OF title, search_text ON newsletter_issue
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.search_text IS DISTINCT FROM NEW.search_text)
    EXECUTE FUNCTION newsletter_issue_search_vector();
CREATE INDEX issue_search_vector_gin ON newsletter_issue USING gin (search_vector);
DROP INDEX IF EXISTS issue_search_gin;
"""

BACKWARDS = f"""
CREATE INDEX IF NOT EXISTS issue_search_gin ON newsletter_issue USING gin (({VECTOR.format(row="")}));
DROP TRIGGER IF EXISTS issue_search_vector_update ON newsletter_issue;
DROP TRIGGER IF EXISTS issue_search_vector_insert ON newsletter_issue;
DROP FUNCTION IF EXISTS newsletter_issue_search_vector();
ALTER TABLE newsletter_issue DROP COLUMN IF EXISTS search_vector;
"""


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
        ("newsletter", "0021_inbox_sources"),
    ]

    operations = [PostgresOnlySQL(sql=FORWARDS, reverse_sql=BACKWARDS)]
