"""Production mode: settings from the environment, `check --deploy` clean, gunicorn with WhiteNoise, security headers.

The settings are module-level, so the tests that need DEBUG off with other environment
variables run manage.py or gunicorn in a subprocess, with a clean environment of their own.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def production_env(var_dir, **extra):
    """What an operator sets, and nothing from the test run (its SECURE_* relaxations included)."""
    env = {
        "PATH": os.environ["PATH"],
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "news.example.org,127.0.0.1",
        "SITE_URL": "https://news.example.org",
        "DEFAULT_FROM_EMAIL": "news@news.example.org",  # check --deploy warns about newsletter@localhost
    }
    env.update(extra)
    return env


def manage(*args, env, check=True):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]

    result = manage("check", env=env, check=False)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert not (tmp_path / "secret_key").exists()  # no key made up behind the operator's back


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


def test_check_deploy_warns_when_https_redirect_is_turned_off(tmp_path):
    """The check is really looking: weaken one setting and it speaks up."""
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)

    assert result.returncode != 0
    assert "security.W008" in result.stderr


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url, **headers):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # a 4xx or 5xx is an answer too
        return error.code, dict(error.headers), error.read()


def test_gunicorn_serves_the_archive_and_hashed_compressed_static_files(tmp_path):
    env = production_env(tmp_path, STATIC_MANIFEST="true", WEB_CONCURRENCY="1")
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("createcachetable", env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    assert (tmp_path / "static" / "staticfiles.json").exists()
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [BIN / "gunicorn", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                status, headers, body = get(base + "/")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer within 20 s"
                time.sleep(0.2)

        assert status == 200
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        css = re.search(r'href="(/static/newsletter/archive\.[0-9a-f]{12}\.css)"', body.decode())
        assert css, "the page links the hashed stylesheet"

        status, headers, _ = get(base + css.group(1), **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]

        status, _, body = get(base + "/health/")
        assert status == 503  # no worker runs here
        assert b'"database": {"ok": true' in body
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.django_db
def test_pages_over_https_carry_hsts_and_plain_http_does_not(client):
    assert client.get("/", secure=True)["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/", secure=False)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/search/?q=care", "/admin/login/"])
def test_pages_and_admin_carry_the_security_headers(client, path):
    response = client.get(path, secure=True)

    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_health_is_reachable_over_plain_http_with_the_https_redirect_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    assert client.get(reverse("health")).status_code in (200, 503)
