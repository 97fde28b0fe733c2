"""`make run`'s `login` process: once the site answers, print the editor's login again, then wait.

The password is printed once, by `manage.py create_editor`, when the account is made; dozens of
lines of server and worker output follow it. This prints the admin URL, the user name and how to
reset the password below all that. The password itself is not stored anywhere, so it is not repeated.

It stays running after printing (honcho stops every process when one exits) until honcho stops it.
Standard library only: it must start at once, before Django has loaded anywhere.
"""

import argparse
import signal
import sys
import time
import urllib.error
import urllib.request


def site_answers(url, timeout=2.0):
    """Any HTTP answer counts: /health/ says 503 until the worker's first heartbeat, and that is fine."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def wait_for(url, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if site_answers(url):
            return True
        time.sleep(interval)
    return False


def login_box(base_url, user):
    rows = [
        ("Archive", f"{base_url}/"),
        ("Editor login", f"{base_url}/admin/"),
        ("User", user),
        ("Password", "printed once by create_editor when the account was made (the first make run); not stored"),
        ("Forgot it?", f".venv/bin/python manage.py changepassword {user}"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows]
    rule = "=" * max(len(line) for line in lines)
    return "\n".join([rule, *lines, rule])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the development server's address")
    parser.add_argument("--user", default="editor")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the site")
    parser.add_argument("--exit", action="store_true", help="exit after printing instead of waiting (tests)")
    args = parser.parse_args(argv)
    base_url = args.url.rstrip("/")

    for signum in (signal.SIGTERM, signal.SIGINT):  # honcho's stop, or Ctrl-C: leave quietly
        signal.signal(signum, lambda *_: sys.exit(0))

    if wait_for(f"{base_url}/health/", args.timeout):
        print(login_box(base_url, args.user), flush=True)
    else:
        print(f"{base_url}/ did not answer within {args.timeout:.0f} s: see the web process's output.", flush=True)
    if args.exit:
        return 0
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
