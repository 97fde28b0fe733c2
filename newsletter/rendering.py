"""Markdown to sanitised HTML: the one way text becomes markup, for web and email.

Imported and editor text is untrusted, so the Markdown output is always passed
through nh3 before it reaches a page or an email.
"""

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr",
    "i", "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "abbr": {"title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def markdown_to_html(text: str) -> str:
    if not text:
        return ""
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    return sanitise_html(html)
