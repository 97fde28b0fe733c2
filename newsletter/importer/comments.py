"""Reader comments at the end of a news article (document shape 5): the most informal suffix of its lines."""

import re

PERSONAL = re.compile(r"\b(?:i(?![.’'])|me|my|we|us|our|you|your)\b", re.I)
REPORTING = re.compile(r"\b(?:said|says|will say|will add|announced|added|according to|told)\b", re.I)
CLOSING_QUOTE = {"“": "”", '"': '"'}


def unquoted(line):
    """The line with every quotation (“…” or "…") replaced by a space, leftmost first.

    The same as re.sub(r'“[^”]*”|"[^"]*"', " ", line), in one pass: that pattern would scan to
    the end of the line again from every opening quote that is never closed.
    """
    # An opening quote at or after last[q] has no closing quote after it.
    last = {q: line.rfind(close) for q, close in CLOSING_QUOTE.items()}
    following = {q: line.find(q) for q in CLOSING_QUOTE}
    parts, start = [], 0
    while True:
        open_quotes = [(i, q) for q, i in following.items() if 0 <= i < last[q]]
        if not open_quotes:
            break
        i, q = min(open_quotes)
        parts += [line[start:i], " "]
        start = line.index(CLOSING_QUOTE[q], i + 1) + 1
        for q, i in following.items():
            if 0 <= i < start:
                following[q] = line.find(q, start)
    parts.append(line[start:])
    return "".join(parts)


def _reporting_marks(line):
    return len(REPORTING.findall(unquoted(line))) + ("“" in line or '"' in line)


def _informal_marks(line):
    text = unquoted(line)
    return len(PERSONAL.findall(text)) + text.count("!") + text.count("?") + text.count(" ?") + text.count(". . .")


def split_comments(lines):
    """(article lines, comment lines): the comments are the most informal suffix, if any."""
    scores = [_informal_marks(line) - 2 * _reporting_marks(line) for line in lines]
    best_start, best_total, total = None, 0, 0
    for k in range(len(lines) - 1, 0, -1):
        total += scores[k]
        if total > best_total:
            best_start, best_total = k, total
    if best_start is None or best_total < 3:
        return lines, []
    if sum(_reporting_marks(line) for line in lines[:best_start]) == 0:
        return lines, []
    return lines[:best_start], lines[best_start:]
