"""After `make run`, the README's manage.py commands work in any new shell (issue 11).

`make run` writes VAR_DIR/.env (DEBUG=true) with `make dotenv`; the settings read it only when the
environment sets neither DEBUG nor SECRET_KEY, and never let it override the environment. Each test
writes the file with the real Makefile target into a temporary VAR_DIR, so the developer's own
var/.env is never touched, and runs manage.py in a clean environment (no DEBUG, no SECRET_KEY).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import require_service

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _make():
    require_service(shutil.which("make"), "needs make")


@pytest.fixture
def var_dir(tmp_path):
    """A VAR_DIR with the .env `make run` writes, written by the Makefile itself."""
    var_dir = tmp_path / "var"
    result = subprocess.run(
        ["make", "-s", "dotenv", f"VAR_DIR={var_dir}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (var_dir / ".env").is_file()
    return var_dir


def clean_env(var_dir, **extra):
    """A new shell: PATH and VAR_DIR, nothing from the test run (it sets SECRET_KEY)."""
    return {"PATH": os.environ["PATH"], "VAR_DIR": str(var_dir), **extra}


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def debug_setting(env):
    result = manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.split()[-1]  # after the shell's "N objects imported" line


def test_make_dotenv_writes_debug_on_and_no_secret(var_dir):
    lines = [line for line in (var_dir / ".env").read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["DEBUG=true"]  # the key is generated into VAR_DIR/secret_key, not copied here


def test_make_dotenv_leaves_an_existing_file_alone(var_dir):
    (var_dir / ".env").write_text("DEBUG=true\nEMAIL_URL=smtp://localhost:1025\n")

    subprocess.run(["make", "-s", "dotenv", f"VAR_DIR={var_dir}"], cwd=ROOT, check=True, timeout=60)

    assert "EMAIL_URL" in (var_dir / ".env").read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["changepassword", "--help"],  # the reset hint create_editor prints
        ["import_seeds", "--dry-run", "--json"],
        ["send_issue", "--help"],
    ],
    ids=lambda args: " ".join(args),
)
def test_readme_commands_work_in_a_new_shell_after_make_run(var_dir, args):
    result = manage(*args, env=clean_env(var_dir))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ImproperlyConfigured" not in result.stderr


def test_dotenv_turns_debug_on_when_the_environment_is_silent(var_dir):
    assert debug_setting(clean_env(var_dir)) == "True"


def test_debug_false_in_the_environment_wins_over_dotenv(var_dir):
    assert debug_setting(clean_env(var_dir, DEBUG="false", SECRET_KEY="x" * 50)) == "False"

    # Without a key the settings still refuse, as in production: the .env did not turn DEBUG on.
    result = manage("check", env=clean_env(var_dir, DEBUG="false"))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_secret_key_in_the_environment_means_dotenv_is_not_read(var_dir):
    """Production sets SECRET_KEY: a stray .env on the host (someone ran `make run`) changes nothing."""
    assert debug_setting(clean_env(var_dir, SECRET_KEY="x" * 50)) == "False"


def test_without_dotenv_the_settings_still_refuse_to_start(tmp_path):
    result = manage("check", env=clean_env(tmp_path / "var"))

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_default_dotenv_is_git_ignored():
    require_service(shutil.which("git") and (ROOT / ".git").exists(), "needs the git checkout")
    result = subprocess.run(["git", "check-ignore", "-q", "var/.env"], cwd=ROOT, timeout=30)
    assert result.returncode == 0
