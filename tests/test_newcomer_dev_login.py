"""`make run` prints the editor's login again once the site answers, and keeps Celery quiet (issue 11)."""

import http.server
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "dev_login.py"


class Unhealthy(http.server.BaseHTTPRequestHandler):
    """Like /health/ before the worker's first heartbeat: an answer, but a 503."""

    def do_GET(self):
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "error"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unhealthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_login_box_names_the_url_the_user_and_how_to_reset_the_password(site):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", site, "--user", "editor", "--timeout", "20", "--exit"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{site}/admin/" in out
    assert "editor" in out
    assert ".venv/bin/python manage.py changepassword editor" in out
    assert "password: " not in out.lower()  # never a password: none is stored


def test_it_waits_for_the_site_and_says_so_when_it_never_answers():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", "http://127.0.0.1:9", "--timeout", "1", "--exit"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "did not answer" in result.stdout
    assert "changepassword" not in result.stdout


def test_it_keeps_running_after_printing_until_honcho_stops_it(site):
    """honcho stops every process when one exits, so the login process must stay up."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(SCRIPT), "--url", site, "--timeout", "20"], stdout=subprocess.PIPE, text=True
    )
    try:
        lines = []
        while "changepassword" not in "".join(lines):
            line = process.stdout.readline()
            assert line, "the script ended before printing the login"
            lines.append(line)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()


def procfile():
    entries = {}
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = shlex.split(command)
    return entries


def test_procfile_runs_the_login_process_and_quiet_celery():
    entries = procfile()

    assert entries["login"][:2] == ["python", "scripts/dev_login.py"]
    for name in ("worker", "beat"):
        command = entries[name]
        assert "--quiet" in command, f"{name} prints Celery's banner"
        assert "--loglevel=warning" in command, f"{name} logs every task at INFO"
