"""A URLconf for tests/test_archive_pagecache_early.py: a page marked for the page cache that carries a form token."""

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path

from newsletter.pagecache import cache_archive_page


@cache_archive_page
def form_page(request):
    return HttpResponse(f'<form method="post"><input name="csrfmiddlewaretoken" value="{get_token(request)}"></form>')


urlpatterns = [path("form/", form_page)]
