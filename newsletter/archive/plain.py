"""Sanitised HTML as plain text for feeds and calendars: rendering.html_to_text, unwrapped and shortened."""

from newsletter.rendering import html_to_text


def plain_text(html, *, limit=None, paragraphs=True):
    """The text of `html`, each paragraph on one line (paragraphs apart, or run together when `paragraphs` is
    false), links as "text (URL)", cut at a word with "…" when longer than `limit` characters."""
    blocks = [" ".join(block.split()) for block in html_to_text(html).split("\n\n")]
    text = ("\n\n" if paragraphs else " ").join(block for block in blocks if block)
    return shorten(text, limit) if limit else text


def shorten(text, limit):
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > 0 else cut).rstrip(" ,;:–-\n") + "…"
