"""The importer's regular expressions, in one place so their linear-time guarantee can be read at once."""

import re

# Linear time on any input (docs/importer.md): every pattern here is anchored or starts at a word, and
# _LAZY is ".+?" that stops only after a non-space, so the "\s*" after it scans a run of spaces once
# (from its last stop), not once from every space in the run. The text matched is the same.
_LAZY = r".(?:.*?\S)??"
FOOTER = re.compile(
    rf"^\s*Posted in (?P<category>{_LAZY})(?:\s*\|\s*Tagged(?P<tags>[^|]*+))?\s*\|\s*"
    r"(?:Leave a comment|\d+ [Cc]omments?|One [Cc]omment|Comments Off)\s*$"
)
POSTS_TAGGED = re.compile(r"^\s*Posts Tagged\s*[‘'\"“](?P<tag>.+?)[’'\"”]\s*$")
LEFTOVER = re.compile(
    r"^\s*(Tags assigned to this article:?|Related Articles|Share this:?|Like this:?|Leave a comment|"
    r"Share on (Facebook|Twitter)|Print this page)\s*$",
    re.I,
)
BULLET = re.compile(r"^(?P<indent>\s*)[-*•◦▪·‣]\s+(?P<text>\S.*)$")
NUMBERED = re.compile(r"^(?P<indent>\s*)(?P<number>\d{1,2})[.)]\s+(?P<text>\S.*)$")
LETTERED = re.compile(r"^(?P<indent>\s*)\(?(?P<letter>[a-z])\)\s+(?P<text>\S.*)$")

CLOSING = re.compile(r"^(?:And\s+lastly\b|Lastly,|And\s+finally\b)", re.I)
DIGEST = re.compile(r"\b(?:weekly|daily|fortnightly|monthly)\s+(?:update|review|round-up|roundup|digest)\b", re.I)
COLUMN = re.compile(r"\b(?:corner|column|opinion|diary)\b|^view from\b", re.I)
SOURCE = re.compile(rf"^(?:\[\s*(?P<bracketed>Source\s*[–:-]{_LAZY})\s*\]|(?P<via>Via\s+[A-Z][^.]{{0,80}}))$")
BYLINE = re.compile(r"^(?:[Bb]y\s+[A-Z]|.{1,60}\bwrites:?$)")
FIELD = re.compile(
    r"^(?:Fees?|Cost|Price|Venue|Dates?|Time|Booking|Speakers?|Contact|E-?mail|Tel|Telephone|Phone|Where|When)\s*:",
    re.I,
)
LABEL = re.compile(r"^[A-Z][A-Z ]{1,40}:$")
SENTENCE_BREAK = re.compile(r"[.!?…]\s+[A-Z“‘\"]")
FEE = re.compile(r"^(?:Fees?|Cost|Price|Charge)s?\s*:\s*(?P<fee>\S.*)$", re.I)
BOOKING = re.compile(r"\b(?:booking form|to book|book (?:a|your) place|booking:|bookings?\s+(?:is|are|via|at))", re.I)
SIGN_OFF = re.compile(r"^P\.?\s?S\.?\s", re.I)
VENUE_SEPARATOR = re.compile(r"^\s*(?:,|–|—|-|at\b)\s*(?P<venue>\S.*)$", re.I)
FIRST_SENTENCE = re.compile(r"^(.{1,120}?[.!?])(?:\s|$)")
OPENING = "‘“\"'"
