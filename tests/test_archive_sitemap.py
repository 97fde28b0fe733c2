import pytest


@pytest.mark.django_db
def test_sitemap_lists_home_newsletters_and_published_issues(client, archive):
    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    xml = response.text
    assert "<loc>http://testserver/</loc>" in xml
    assert "<loc>http://testserver/weekly-update/</loc>" in xml
    for issue in archive.published:
        assert f"<loc>http://testserver{issue.get_absolute_url()}</loc>" in xml
    assert "<lastmod>" in xml


@pytest.mark.django_db
def test_sitemap_leaves_out_drafts_and_scheduled_issues(client, archive):
    xml = client.get("/sitemap.xml").text

    assert archive.draft.get_absolute_url() not in xml
    assert archive.scheduled.get_absolute_url() not in xml


@pytest.mark.django_db
def test_sitemap_query_count_does_not_grow_with_issues(client, archive, make_issue, django_assert_max_num_queries):
    for n in range(20):
        make_issue(f"Extra {n}")

    with django_assert_max_num_queries(5):  # one more for the topic pages (issue 13)
        response = client.get("/sitemap.xml")

    # Each issue in English and in Welsh (the alternates name both again).
    assert response.text.count("<loc>http://testserver/weekly-update/extra-") == 20
    assert response.text.count("<loc>http://testserver/cy/weekly-update/extra-") == 20
