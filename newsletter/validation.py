"""Refuse Markdown the sanitiser would strip, so an editor is told instead of losing text silently."""

from html.parser import HTMLParser

import markdown

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
