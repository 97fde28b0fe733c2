"""Markdown → sanitised HTML: the one way text becomes markup, for web and email.

A leaf: it imports no model and nothing else of the app. Imported and editor text is
untrusted, so Markdown output always passes through nh3 (`markdown_to_html`), and
`markdown_problems` tells an editor what the sanitiser would strip instead of losing it silently.
"""

from html.parser import HTMLParser

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


# Markdown the sanitiser would strip ---------------------------------------------------------

DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "button", "link", "meta", "base"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}
SAFE_SCHEMES = ("http:", "https:", "mailto:", "#", "/")


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}> elements are not allowed.")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"Event handlers such as {name}= are not allowed.")
            elif name in URL_ATTRIBUTES and value:
                cleaned = "".join(value.split()).lower()
                if ":" in cleaned.split("/")[0] and not cleaned.startswith(SAFE_SCHEMES):
                    scheme = cleaned.split(":", 1)[0]
                    self.problems.append(f"Links must use http, https or mailto, not “{scheme}:”.")


def markdown_problems(text: str) -> list[str]:
    """What in this Markdown would not survive sanitising, once each, in order."""
    if not text:
        return []
    finder = _Finder()
    finder.feed(markdown.markdown(text, extensions=["sane_lists"]))
    return list(dict.fromkeys(finder.problems))
