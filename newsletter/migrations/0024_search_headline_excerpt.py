"""Search snippets from an excerpt of the issue's text on PostgreSQL; nothing on SQLite (its snippets are Python's).

ts_headline parses the whole text it is given, about 1.5 ms for a 14 KB issue: a results page of long issues
spent 30 ms in it. newsletter_search_headline() gives it an excerpt instead: `size` characters from `before`
characters ahead of the first place one of `terms` appears (search passes the word as typed, in lower case
and capitalised: "croydon", "Croydon"), cut on spaces. For a one-word query ts_headline shows the first two
matches, so the snippet is the same when both are in the excerpt, else its first fragment. When no term
appears as written (only another form of the word: "caring" for "care") or the excerpt's headline marks
nothing, it falls back to the whole text, as before. newsletter.archive.search calls it.
"""

from django.db import migrations

FORWARDS = """
CREATE FUNCTION newsletter_search_headline(
    config regconfig, body text, query tsquery, options text, start_sel text, terms text[], before integer, size integer
) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    at integer := 0;
    found integer;
    term text;
    start integer;
    cut integer;
    excerpt text;
    goes_on boolean;
    headline text;
BEGIN
    -- A byte count, not length(), which counts the characters of a UTF-8 text one by one.
    IF octet_length(body) > size THEN
        FOREACH term IN ARRAY terms LOOP
            found := strpos(body, term);
            IF found > 0 AND (at = 0 OR found < at) THEN
                at := found;
            END IF;
        END LOOP;
    END IF;
    IF at > 0 THEN
        start := greatest(at - before, 1);
        excerpt := substr(body, start, size);
        goes_on := length(excerpt) = size;  -- the text goes on past the excerpt (or ends just there)
        cut := strpos(excerpt, ' ');
        IF start > 1 AND cut BETWEEN 1 AND at - start THEN  -- open on a word, not inside one
            excerpt := substr(excerpt, cut + 1);
        END IF;
        IF goes_on THEN  -- close on a word
            excerpt := left(excerpt, length(excerpt) - strpos(reverse(excerpt), ' '));
        END IF;
        headline := ts_headline(config, excerpt, query, options);
        IF strpos(headline, start_sel) > 0 THEN
            RETURN headline;
        END IF;
    END IF;
    RETURN ts_headline(config, body, query, options);
END
$$;
"""

BACKWARDS = """
DROP FUNCTION IF EXISTS newsletter_search_headline(regconfig, text, tsquery, text, text, text[], integer, integer);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0023_merge_languages_search"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
