"""What the API reads and writes. Writes are validated like the admin: each model's own validation
(full_clean: fields, clean(), constraints) and the sanitiser's check on every Markdown field (markdown_problems),
so Markdown that would lose something is refused with the field named, never silently stripped."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Max
from django.utils.text import slugify
from rest_framework import serializers

from newsletter.markup import markdown_problems
from newsletter.models import Contribution, Issue, Link, Newsletter, Section
from newsletter.tokens import absolute


def _markdown_errors(attrs, names):
    errors = {}
    for name in names:
        problems = markdown_problems(attrs.get(name) or "")
        if problems:
            errors[name] = problems
    if errors:
        raise serializers.ValidationError(errors)


def _full_clean(instance, exclude=()):
    try:
        instance.full_clean(exclude=list(exclude))
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from exc


class LinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Link
        fields = ["id", "position", "url", "title", "source"]


SECTION_FIELDS = [
    "id",
    "parent",
    "position",
    "heading",
    "kind",
    "body_markdown",
    "body_html",
    "source",
    "event_date",
    "event_time",
    "venue",
    "fee",
    "booking",
    "links",
]


class SectionSerializer(serializers.ModelSerializer):
    links = LinkSerializer(many=True, read_only=True)
    parent = serializers.PrimaryKeyRelatedField(queryset=Section.objects.all(), required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, required=False)

    class Meta:
        model = Section
        fields = SECTION_FIELDS
        read_only_fields = ["body_html"]

    def validate(self, attrs):
        _markdown_errors(attrs, ["body_markdown", "booking"])
        issue = self.context["issue"]
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        if parent is not None and parent.issue_id != issue.pk:
            raise serializers.ValidationError({"parent": ["The parent must be a section of the same issue."]})
        section = self.instance or Section(issue=issue)
        if self.instance is None and "position" not in attrs:
            siblings = Section.objects.filter(issue=issue, parent=parent)
            attrs["position"] = (siblings.aggregate(last=Max("position"))["last"] or 0) + 1
        for name, value in attrs.items():
            setattr(section, name, value)
        _full_clean(section, exclude=["body_html", "imported_topic_ids"])
        return attrs


class PublishedIssueSerializer(serializers.ModelSerializer):
    newsletter = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()
    sections = SectionSerializer(many=True, read_only=True)

    class Meta:
        model = Issue
        fields = ["id", "newsletter", "title", "slug", "url", "subject", "issue_date", "date_precision", "status"]
        fields += ["intro", "sign_off", "category", "sent_at", "sections"]
        read_only_fields = fields

    def get_url(self, issue):
        return absolute(issue.get_absolute_url())


class PublishedIssueListSerializer(PublishedIssueSerializer):
    class Meta(PublishedIssueSerializer.Meta):
        fields = [
            name for name in PublishedIssueSerializer.Meta.fields if name not in ("sections", "intro", "sign_off")
        ]


class DraftSerializer(serializers.ModelSerializer):
    """A draft (or scheduled) issue: its own fields are written; status and approval only change in the admin."""

    newsletter = serializers.SlugRelatedField(slug_field="slug", queryset=Newsletter.objects.all())
    slug = serializers.SlugField(max_length=120, required=False)
    sections = SectionSerializer(many=True, read_only=True)

    class Meta:
        model = Issue
        fields = ["id", "newsletter", "title", "slug", "subject", "preheader", "issue_date", "date_precision"]
        fields += ["visibility", "intro", "sign_off", "category", "status", "approved_at", "created_at", "updated_at"]
        fields += ["sections"]
        read_only_fields = ["status", "approved_at", "created_at", "updated_at"]
        validators = []  # the unique slug per newsletter is checked by full_clean, once the slug is known

    def validate(self, attrs):
        _markdown_errors(attrs, ["intro", "sign_off"])
        if self.instance is not None and "newsletter" in attrs and attrs["newsletter"] != self.instance.newsletter:
            raise serializers.ValidationError({"newsletter": ["A draft stays in its newsletter."]})
        issue = self.instance or Issue(status=Issue.Status.DRAFT)
        if self.instance is None and not attrs.get("slug"):
            attrs["slug"] = slugify(attrs.get("title", ""))[:120]
        if "issue_date" in attrs or "date_precision" in attrs:
            date = attrs.get("issue_date", issue.issue_date)
            if date is None:
                attrs["date_precision"] = ""
            elif not attrs.get("date_precision", issue.date_precision):
                attrs["date_precision"] = Issue.DatePrecision.DAY
        for name, value in attrs.items():
            setattr(issue, name, value)
        issue.edited_in_admin = True
        _full_clean(issue, exclude=["search_text", "sent_html", "sent_text", "send_plan"])
        return attrs


class ContributionSerializer(serializers.ModelSerializer):
    """A suggestion into the editors' inbox, checked like the public form's."""

    newsletter = serializers.SlugRelatedField(slug_field="slug", queryset=Newsletter.objects.all())
    contact_email = serializers.EmailField(required=False, help_text="Default: the token's editor's address.")

    class Meta:
        model = Contribution
        fields = ["id", "newsletter", "title", "url", "summary", "contact_name", "contact_email", "status"]
        fields += ["created_at"]
        read_only_fields = ["status", "created_at"]

    def validate(self, attrs):
        _markdown_errors(attrs, ["summary"])
        if not attrs.get("contact_email"):
            attrs["contact_email"] = getattr(self.context["request"].user, "email", "")
        if not attrs["contact_email"]:
            raise serializers.ValidationError({"contact_email": ["Give an address: your account has none."]})
        _full_clean(Contribution(**attrs), exclude=["section", "decided_at"])
        return attrs


class SubscriberCountsSerializer(serializers.Serializer):
    newsletter = serializers.SlugField()
    name = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Subscriptions by status.")
