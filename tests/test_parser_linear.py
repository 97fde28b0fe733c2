"""The importer runs in linear time on any input: long unbroken words of every kind, and every pattern it uses.

A pattern that backtracks over every start position (or every way to split a run of spaces) takes
quadratic time: four times the text, sixteen times as long; a 1 MB word never finished. These tests
compare times on the same machine, so they hold on a slow one, and give each run a generous floor so
that noise cannot fail them: a quadratic pattern is over that floor by orders of magnitude here.
"""

import importlib
import pkgutil
import random
import re
import string
import time

import pytest

import newsletter.importer
from newsletter.importer.parse import parse_document

SMALL = 128 * 1024
LARGE = 8 * SMALL  # 1 MiB: linear growth takes ~8 times as long, quadratic ~64 times
MAX_RATIO = 8 * 2.5
FLOOR = 0.01  # seconds; parsing SMALL characters quadratically takes minutes


def _run(unit):
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _random(alphabet):
    return lambda n: "".join(random.Random(n).choices(alphabet, k=n))


def _between(before, word, after):
    return lambda n: before + word(n) + after


WORDS = {
    "letters": _random(string.ascii_letters),
    "digits": _random(string.digits),
    "base64": _random(string.ascii_letters + string.digits + "+/="),
    "base64url": _random(string.ascii_letters + string.digits + "-_"),  # no "/" or "=" to break the run
    "hex": _random("0123456789abcdef"),
    "dashes": _run("-"),
    "dots": _run("."),
    "underscores": _run("_"),
    "at signs": _run("@"),
    "open brackets": _run("["),
    "close brackets": _run("]"),
    "open parentheses": _run("("),
    "stars": _run("*"),
    "stars and underscores": _run("*_"),
    "percent signs": _run("%"),
    "address characters": _random(string.ascii_letters + string.digits + "._%+-"),
    "whitespace": _between("a", _random(" \t\f\u00a0\u2003"), "b"),
    "mixed": _random(string.ascii_letters + string.digits + string.punctuation + " “”‘’"),
    "after a URL, closing brackets": _between("http://example.org/", _run(")"), ""),
    "after a URL, full stops": _between("http://example.org/", _run("."), ""),
    "after an e-mail user": _between("name", _run(" "), "[ at"),
    "in a footer, spaces": _between("Posted in News", _run(" "), "x"),
    "in a footer, tags": _between("Posted in News | Tagged", _run(" "), "x"),
}


def _document(word):
    """The word as a paragraph and as the first line, where the date and shape rules look."""
    return f"{word}\n\nWeekly update\n\nThe end."


def _article(word):
    """The word as a line of a news article with comments, where quotes are weighed."""
    return f"The council said “yes” on Monday.\n{word}\nI think so!\nMe too? Really!"


CASES = {name: (word, _document) for name, word in WORDS.items()} | {
    "unclosed quotes in an article": (_run("“"), _article),
    "letters in an article": (_random(string.ascii_letters), _article),
}


def _parse_seconds(text, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()  # CPU time: other processes on the machine do not count
        parse_document(text, source="long.txt", newsletter="n")
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", CASES)
def test_parse_time_grows_linearly_with_one_long_word(name):
    word, document = CASES[name]
    small, large = document(word(SMALL)), document(word(LARGE))
    small_seconds = _parse_seconds(small, repeat=3)
    large_seconds = _parse_seconds(large, repeat=1)
    if large_seconds > MAX_RATIO * max(small_seconds, FLOOR):  # not linear, or a hiccup: measure again
        large_seconds = min(large_seconds, _parse_seconds(large, repeat=1))
    ratio = large_seconds / max(small_seconds, FLOOR)
    assert ratio < MAX_RATIO, (
        f"{name}: {len(small):,} characters parsed in {small_seconds:.3f}s, "
        f"{len(large):,} in {large_seconds:.3f}s: {ratio:.0f} times as long, not linear"
    )


# Every pattern of the importer, on pathological inputs -----------------------------------------

MODULES = [
    importlib.import_module(f"newsletter.importer.{m.name}") for m in pkgutil.iter_modules(newsletter.importer.__path__)
]
PATTERNS = {
    f"{module.__name__.rpartition('.')[2]}.{name}": value
    for module in MODULES
    for name, value in vars(module).items()
    if type(value) is re.Pattern  # not isinstance(), which would touch the lazy Django settings in files.py
}
# What the rules look for, so that a pattern gets past its keywords to the part that could backtrack.
CONTEXTS = [
    "", "a", "1", "Posted in a", "Posted in a| Tagged", "Posts Tagged '", "[Source – a", "1 May", "1 May,",
    "Monday,", "12", "http://a", "www.a", "a@a", "a [", "“", "- ", "Fee:",
]  # fmt: skip
RUNS = [" ", "\t\n ", "a", "1", ".", "-", "_", "@", "[", "(", ")", "%", "“", "a.", "1 "]
ENDINGS = ["x", "\nx", "\nx\nx"]
SCREEN = 4000  # characters of each run; a quadratic pattern takes milliseconds on it, a linear one microseconds


def _pathological(size):
    return [context + _run(unit)(size) + ending for context in CONTEXTS for unit in RUNS for ending in ENDINGS]


def _scan_seconds(pattern, text, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _match in pattern.finditer(text):
            pass
        best = min(best, time.process_time() - start)
    return best


def test_the_audit_sees_every_pattern_of_every_module():
    assert {"comments", "dates", "files", "inline", "patterns"} <= {m.__name__.rpartition(".")[2] for m in MODULES}
    expected = {"inline.LINK", "patterns.FOOTER", "patterns.SOURCE", "dates.DAY_MONTH_YEAR", "files.CONTROL"}
    assert expected <= set(PATTERNS)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", PATTERNS)
def test_every_importer_pattern_is_linear_on_pathological_inputs(name):
    pattern = PATTERNS[name]
    small_texts, large_texts = _pathological(SCREEN), _pathological(4 * SCREEN)
    for small_text, large_text in zip(small_texts, large_texts, strict=True):
        if _scan_seconds(pattern, small_text) < 0.001:
            continue
        # Slow, or a hiccup: measure properly, at this size and at four times it (linear: ~4 times as long).
        small = _scan_seconds(pattern, small_text, repeat=3)
        large = _scan_seconds(pattern, large_text, repeat=3)
        assert large < 4 * 2.5 * max(small, 0.001), f"{name} on {small_text[:20]!r}…: {small:.4f}s, ×4: {large:.4f}s"
