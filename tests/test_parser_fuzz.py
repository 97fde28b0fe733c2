"""No input text crashes the parser."""

from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.importer.parse import parse_document

PIECES = st.sampled_from(
    [
        "\n", "\n\n", "  • ", "1. ", "a) ", "Posted in News | Tagged , | Leave a comment", "Weekly update 24.05.11",
        "Posts Tagged ‘x’", "Monday, December 9th, 2019", "FREE EVENT:", "Fee: £5", "And lastly …", "P.S. ",
        "http://x.org/(a)", "www.", "a [at] b.org", "[Source – x]", "Via X", "“", "!", " ?", "\u00a0", "[", "_", "*",
        "Weekly update of things", "30th February 2020", "Digest", "Corner", "by Ann", "Tags assigned to this article:",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=40)), max_size=60))
def test_parser_never_crashes_and_keeps_the_contract(pieces):
    issues = parse_document("".join(pieces), source="f.txt", newsletter="n")
    for issue in issues:
        contract = issue.contract()
        assert contract["title"]
        assert len(contract["links"]) == len(set(contract["links"]))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parser_survives_any_unicode(text):
    parse_document(text, source="f.txt", newsletter="n")
