"""Cutting a document into posts: a blog dump, a tagged blog, or one titled update."""

import itertools
from dataclasses import dataclass, field

from newsletter.importer.comments import split_comments
from newsletter.importer.dates import find_date, parse_date_line, strip_dates
from newsletter.importer.inline import normalise_spaces
from newsletter.importer.patterns import FOOTER, POSTS_TAGGED

# Posts ------------------------------------------------------------------------------


@dataclass
class RawPost:
    lines: list
    raw: str
    title: str | None = None
    date: object = None
    precision: str | None = None
    category: str | None = None
    tags: list = field(default_factory=list)
    line_per_block: bool = False
    comment_lines: list = field(default_factory=list)


def _non_blank(lines):
    return [i for i, line in enumerate(lines) if normalise_spaces(line)]


def _titled_post(lines, raw, **extra):
    """A post whose first line is its title, perhaps repeated with the date written out."""
    idx = _non_blank(lines)
    if not idx:
        return None
    title = normalise_spaces(lines[idx[0]])
    rest = lines[idx[0] + 1 :]
    found = find_date(title)
    following = _non_blank(rest)
    if following:
        second = normalise_spaces(rest[following[0]])
        if strip_dates(second) == strip_dates(title):
            found = found or find_date(second)
            rest = rest[following[0] + 1 :]
    post = RawPost(lines=rest, raw=raw, title=title, **extra)
    if found and post.date is None:
        post.date, post.precision = found.date, found.precision
    return post


def split_blog_dump(lines):
    posts, start = [], 0
    for i, line in enumerate(lines):
        m = FOOTER.match(line)
        if not m:
            continue
        chunk = lines[start:i]
        tags = [normalise_spaces(t) for t in (m["tags"] or "").split(",")]
        post = _titled_post(chunk, "\n".join(lines[start : i + 1]), category=normalise_spaces(m["category"]))
        if post:
            post.tags = [t for t in tags if t]
            posts.append(post)
        start = i + 1
    tail = lines[start:]
    if _non_blank(tail):
        post = _titled_post(tail, "\n".join(tail))
        if post:
            posts.append(post)
    return posts


def split_tagged_blog(lines, tag):
    units_idx = _non_blank(lines)
    starts = []
    for a, b in itertools.pairwise(units_idx):
        line = parse_date_line(normalise_spaces(lines[b]))
        if line and not line.rest.strip() and not parse_date_line(normalise_spaces(lines[a])):
            starts.append((a, b))
    posts = []
    for n, (title_i, date_i) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        line = parse_date_line(normalise_spaces(lines[date_i]))
        posts.append(
            RawPost(
                lines=lines[date_i + 1 : end],
                raw="\n".join(lines[title_i:end]),
                title=normalise_spaces(lines[title_i]),
                date=line.date,
                precision="day",
                tags=[tag],
            )
        )
    return posts


def split_document(text):
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(FOOTER.match(line) for line in lines):
        return split_blog_dump(lines)
    idx = _non_blank(lines)
    if not idx:
        return []
    first = normalise_spaces(lines[idx[0]])
    m = POSTS_TAGGED.match(first)
    if m:
        posts = split_tagged_blog(lines[idx[0] + 1 :], m["tag"])
        if posts:
            return posts
    body = lines[idx[0] : idx[-1] + 1]
    if len(body) >= 3 and all(normalise_spaces(line) for line in body):
        article, comments = split_comments([normalise_spaces(line) for line in body])
        return [RawPost(lines=article, raw=text, line_per_block=True, comment_lines=comments)]
    found = find_date(first)
    if found and len(first.split()) <= 12 and not first.endswith("."):
        return [_titled_post(lines, text)]
    return [RawPost(lines=lines, raw=text)]
