"""What the parser produces: plain dataclasses, and their JSON contract (docs/importer.md)."""

from dataclasses import dataclass, field


@dataclass
class ParsedLink:
    url: str
    title: str


@dataclass
class ParsedEvent:
    date: str | None
    time: str | None
    venue: str | None
    fee: str | None
    booking: str | None


@dataclass
class ParsedSection:
    heading: str | None
    kind: str
    body_markdown: str
    source: str | None
    event: ParsedEvent | None
    links: list[ParsedLink]
    sections: list["ParsedSection"] = field(default_factory=list)

    def contract(self):
        return {
            "heading": self.heading,
            "kind": self.kind,
            "body_markdown": self.body_markdown,
            "source": self.source,
            "event": None if self.event is None else vars(self.event).copy(),
            "links": [{"url": link.url, "title": link.title} for link in self.links],
            "sections": [child.contract() for child in self.sections],
        }


@dataclass
class ParsedComment:
    author: str | None
    date: str | None
    body_markdown: str


@dataclass
class ParsedIssue:
    source: str
    newsletter: str
    title: str
    date: str | None
    date_precision: str | None
    category: str | None
    tags: list[str]
    intro: str | None
    sign_off: str | None
    sections: list[ParsedSection]
    links: list[str]
    comments: list[ParsedComment]
    content_hash: str = ""

    def contract(self):
        """The stable --dry-run --json form of this issue."""
        return {
            "source": self.source,
            "newsletter": self.newsletter,
            "title": self.title,
            "date": self.date,
            "date_precision": self.date_precision,
            "category": self.category,
            "tags": list(self.tags),
            "intro": self.intro,
            "sign_off": self.sign_off,
            "sections": [section.contract() for section in self.sections],
            "links": list(self.links),
            "comments": [vars(comment).copy() for comment in self.comments],
        }
