"""An image an editor uploads to a section appears where readers look: in the email (absolute URL, alt
text, a width Outlook honours), on the archive page and, as its alt text, in the plain-text part."""

import io

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from newsletter.models import Issue, SectionImage
from newsletter.rendering import render_issue

pytestmark = pytest.mark.django_db


def png(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "PNG")
    return SimpleUploadedFile("map.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def issue_with_images(make_issue, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    issue = make_issue(
        "Weekly update",
        status=Issue.Status.SENT,
        sections=[
            {"heading": "New play area", "body_markdown": "Opening on Friday."},
            {"heading": "Road works", "body_markdown": "Expect delays."},
        ],
    )
    first, second = issue.sections.order_by("position")
    SectionImage.objects.create(section=first, image=png(1200, 800), alt_text="Children on the new climbing frame")
    SectionImage.objects.create(section=second, image=png(300, 200), alt_text="Map of the closed roads")
    return issue


def test_the_email_shows_each_image_with_its_alt_text_an_absolute_url_and_a_width(issue_with_images, settings):
    rendered = render_issue(issue_with_images)
    images = BeautifulSoup(rendered.html, "html.parser").select("img[alt]")
    by_alt = {img["alt"]: img for img in images}
    wide, small = by_alt["Children on the new climbing frame"], by_alt["Map of the closed roads"]
    assert wide["src"].startswith(settings.SITE_URL + "/media/sections/") and wide["src"].endswith(".png")
    assert wide["width"] == "552" and small["width"] == "300"  # never wider than the column, never blown up
    assert "[Image: Children on the new climbing frame]" in rendered.text
    assert rendered.text.index("Opening on Friday.") < rendered.text.index("[Image: Children on")


def test_the_archive_page_shows_the_images_in_their_sections(client, issue_with_images):
    page = BeautifulSoup(client.get(issue_with_images.get_absolute_url()).content, "html.parser")
    figures = page.select("section.section figure.section-image img")
    assert [(img["alt"], img["width"], img["height"]) for img in figures] == [
        ("Children on the new climbing frame", "1200", "800"),
        ("Map of the closed roads", "300", "200"),
    ]
    heading = figures[0].find_parent("section").find("h2")
    assert heading.get_text(strip=True) == "New play area"
