"""Issue 11: questions and over-long lines are body text; a news article is titled by its first sentence.

The documents here are written for these tests (docs/importer.md, "Blocks" and "Document shapes").
"""

from pathlib import Path

from newsletter.importer.files import parse_seed, read_seed
from newsletter.importer.parse import TITLE_MAX_CHARS, parse_document
from newsletter.importer.units import HEADING_MAX_CHARS, HEADING_MAX_WORDS

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def parse(text, **kwargs):
    kwargs.setdefault("source", "doc.txt")
    kwargs.setdefault("newsletter", "news")
    return parse_document(text, **kwargs)


def headings(issue):
    return [s.heading for s in issue.sections]


def test_a_closing_question_is_body_text_not_a_heading():
    text = (
        "Notes from the allotment\n\nThe beans came up at last.\n\nParking\n\nThe car park is closed on Sunday.\n\n"
        "And last, but not least: Does anyone fancy a drink?\n\nWhat keeps you going? Tell me.\n"
    )
    (issue,) = parse(text, title="Allotment news")
    assert headings(issue) == ["Notes from the allotment", "Parking"]
    assert issue.sections[1].body_markdown == (
        "The car park is closed on Sunday.\n\nAnd last, but not least: Does anyone fancy a drink?\n\n"
        "What keeps you going? Tell me."
    )


def test_a_question_that_talks_to_the_reader_is_body_text_but_a_question_title_stays_a_heading():
    text = (
        "Bins\n\nCollections move to Friday.\n\nSo, why the change?\n\nThe depot is being rebuilt.\n\n"
        "Smaller Government: Bigger Society?\n\nA new pamphlet asks what councils could stop doing.\n"
    )
    (issue,) = parse(text, title="x")
    assert headings(issue) == ["Bins", "Smaller Government: Bigger Society?"]
    assert "So, why the change?\n\nThe depot" in issue.sections[0].body_markdown


def test_a_line_past_a_headings_length_is_body_text():
    long_line = "Councils " + "and partners " * 10 + "me"  # 141 characters, 22 words
    assert len(long_line) == HEADING_MAX_CHARS + 1 and len(long_line.split()) <= HEADING_MAX_WORDS
    wordy = " ".join(["Word"] * (HEADING_MAX_WORDS + 1))
    for line in (long_line, wordy):
        (issue,) = parse(f"Roads\n\nPotholes fixed.\n\n{line}\n\nMore text.\n", title="x")
        assert headings(issue) == ["Roads"], line
    just_fits = "Councils " + "and partners " * 10 + "m"  # 140 characters
    (issue,) = parse(f"Roads\n\nPotholes fixed.\n\n{just_fits}\n\nMore text.\n", title="x")
    assert headings(issue) == ["Roads", just_fits]


def test_words_to_live_by_has_no_heading_made_of_its_closing_sentence():
    issues = parse_seed(read_seed(SEEDS / "002_d9b6d64c7e93d693.txt"))
    words = next(i for i in issues if i.title == "Words to live by")
    assert headings(words) == [None]
    assert words.intro is None
    body = words.sections[0].body_markdown
    assert body.startswith("Tiptoeing back to the blog")
    assert body.endswith(
        "And last, but most definitely not least: Does anyone fancy a drink?\n\n"
        "What are the things that shape how you work? Is it words that for you?"
    )


# An article written for this test: one paragraph per line, two subheadings, reader comments at the end.
ARTICLE = "\n".join(
    [
        "The county council has agreed a new plan for school transport. It starts in September.",
        "Councillors voted for the plan on Tuesday, the council said.",
        "Who pays",
        "“Parents will not pay more,” the cabinet member said.",
        "Routes",
        "Twelve routes will change, officials added.",
        "I don’t believe a word of it!!",
        "Has anyone asked the drivers ? We never get a say!",
    ]
)


def test_a_news_article_without_a_sidecar_title_takes_its_first_sentence():
    (issue,) = parse(ARTICLE)
    assert issue.title == "The county council has agreed a new plan for school transport"
    assert headings(issue) == ["Who pays", "Routes"]  # the subheadings stay headings
    assert len(issue.comments) == 2


def test_the_sidecar_title_still_wins_over_the_first_sentence():
    (issue,) = parse(ARTICLE, title="School transport")
    assert issue.title == "School transport"


def test_a_first_sentence_too_long_for_a_title_is_shortened_at_a_word():
    sentence = "Local authorities will be expected to work together " * 4 + "from next year."
    (issue,) = parse("\n".join([sentence, *ARTICLE.splitlines()[1:]]))
    assert issue.title.endswith("…") and len(issue.title) <= TITLE_MAX_CHARS
    assert sentence.startswith(issue.title[:-1])
    assert sentence[len(issue.title) - 1] == " "  # cut between two words


def test_an_untitled_newsletter_is_still_titled_by_its_first_heading():
    (issue,) = parse("Some news for the team.\n\nLibrary hours\n\nThe library opens at 8am.\n")
    assert issue.title == "Library hours"
