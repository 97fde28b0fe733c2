"""`manage.py check --deploy` warns when mail would come from a local domain, and never crashes on a new database."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import SystemCheckError

from newsletter.mail.checks import check_senders

ROOT = Path(__file__).resolve().parent.parent


def ids(problems):
    return [(p.id, p.msg) for p in problems]


def test_a_default_from_address_on_localhost_is_a_deploy_warning(db, settings):
    settings.DEFAULT_FROM_EMAIL = "newsletter@localhost"

    [(check_id, message)] = ids(check_senders())

    assert check_id == "newsletter.W001" and "'newsletter@localhost', on a local domain" in message


def test_a_newsletter_sending_from_a_local_domain_is_a_deploy_warning(db, settings, make_newsletter):
    settings.DEFAULT_FROM_EMAIL = "Newsletters <news@example.org>"
    make_newsletter("Parish news", sender_email="news@vicarage.localdomain")
    make_newsletter("Events", sender_email="events@example.org")
    make_newsletter("No sender of its own")

    assert ids(check_senders()) == [
        ("newsletter.W002", "The newsletter 'Parish news' sends from 'news@vicarage.localdomain', on a local domain.")
    ]


def test_the_warning_fails_check_deploy_at_warning_level_and_only_with_deploy(db, settings):
    settings.DEFAULT_FROM_EMAIL = "newsletter@mailhost.local"

    call_command("check")  # not a deploy run: nothing said
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "newsletter")
    except SystemCheckError as error:
        assert "newsletter.W001" in str(error)
    else:
        raise AssertionError("check --deploy did not warn about newsletter@mailhost.local")


def test_check_deploy_on_a_database_that_is_not_migrated_warns_instead_of_crashing(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "VAR_DIR": str(tmp_path),  # a fresh, empty SQLite database
        "SECRET_KEY": "x" * 60,
        "DEFAULT_FROM_EMAIL": "newsletter@localhost",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "newsletter"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "newsletter.W001" in result.stderr and "1 issue" in result.stdout + result.stderr
