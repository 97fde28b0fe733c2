"""gunicorn settings for `make serve` and the systemd unit in docs/deploy.md.

Each can be changed from the environment; gunicorn's own GUNICORN_CMD_ARGS still
applies on top. gunicorn listens on loopback behind a TLS proxy (nginx, Caddy),
which must set X-Forwarded-Proto: Django then knows the request was HTTPS (HSTS,
secure cookies) and redirects plain HTTP.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each page is a few milliseconds of CPU and database; (2 × cores) + 1 keeps
# the cores busy while some workers wait on PostgreSQL or Redis.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
# Restart workers now and then, so a slow leak never grows for weeks.
max_requests = 5000
max_requests_jitter = 500
# Trust X-Forwarded-* only from the proxy in front (loopback by default).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# gunicorn's control socket would sit in the home directory, shared by every gunicorn of this user; not needed.
control_socket_disable = True
wsgi_app = "config.wsgi:application"
