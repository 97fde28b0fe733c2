"""Settings, read from the environment (django-environ).

Every setting has a default that works on one machine with nothing installed:
SQLite under var/, a filesystem broker under var/queue/, mail written to
var/outbox/. Production sets DATABASE_URL, CELERY_BROKER_URL, REDIS_URL,
EMAIL_URL, SECRET_KEY, ALLOWED_HOSTS and SITE_URL.
"""

import datetime
import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# `make run` writes VAR_DIR/.env (DEBUG=true) so that manage.py and celery commands typed in any shell
# behave like make run's own processes. It is read only when the environment sets neither DEBUG nor
# SECRET_KEY, and never overrides a variable the environment sets: production sets SECRET_KEY (and
# `make serve` DEBUG=false), so it never reads this file. VAR_DIR itself comes from the environment.
DOT_ENV_FILE = VAR_DIR / ".env"
if DOT_ENV_FILE.is_file() and not {"DEBUG", "SECRET_KEY"} & os.environ.keys():
    environ.Env.read_env(DOT_ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _secret_key():
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # A development key made once, so sessions survive restarts of `make run`.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "adminsortable2",
    "rest_framework",
    "newsletter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before anything that touches the session
    # A cached archive page is served here in one round trip, before CSP (its header is stored with the page),
    # sessions, language, CSRF and auth.
    "newsletter.pagecache.ArchivePageCache",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # after sessions, before common: /cy/ pages are Welsh
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsletter.pagecache.AdminEditsRefreshArchive",  # after auth: it asks who posted
    "newsletter.editor.history.EditorMiddleware",  # after auth: revisions record who saved
]

ROOT_URLCONF = "config.urls"
# An issue's admin page posts about 17 fields per section: Django's default of 1,000 stops at about 60
# sections. 20,000 fields is a thousand sections; each field is still bounded by DATA_UPLOAD_MAX_MEMORY_SIZE.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "newsletter.context_processors.site",
            ],
        },
    },
]

# Database ------------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'newsletter.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE takes the
    # write lock at BEGIN, so two writers queue instead of failing mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # The test database is a file too, not shared-cache memory: the browser tests' server threads then
    # queue on the write lock as the real site's do, instead of failing with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-database.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when configured (also rate limits and the send ceiling) ----------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Django's backend, one redis.Redis client per pool rather than one per call (config/rediscache.py).
    CACHES = {"default": {"BACKEND": "config.rediscache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "newsletter_cache"}}

# Celery -------------------------------------------------------------------

QUEUE_DIR = VAR_DIR / "queue"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(QUEUE_DIR),
        "data_folder_out": str(QUEUE_DIR),
        "store_processed": False,
        "control_folder": str(QUEUE_DIR / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Workers keep their database connection between tasks (issue 17; a new one per batch cost about 3 % of a worker's
# time): Celery's Django fixup would close it around every task; instead config/celery.py applies Django's own
# rule before each task, CONN_MAX_AGE (WORKER_CONN_MAX_AGE seconds) with a health check.
CELERY_DB_REUSE_MAX = 1_000_000
WORKER_CONN_MAX_AGE = env.int("WORKER_CONN_MAX_AGE", default=600)
CELERY_TASK_ACKS_LATE = True
# A pool process killed mid-task (OOM, SIGKILL) puts its task back on the queue at once instead of
# acking it as failed: every task here is safe to run twice, and a batch's rows are leased.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Europe/London"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Email --------------------------------------------------------------------

OUTBOX_DIR = VAR_DIR / "outbox"
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "newsletter.mail.outbox.OutboxBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="newsletter@localhost")

# Auth, i18n, static -----------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages (docs/translating.md): English is `en-gb`, the default, at today's URLs; Welsh is `cy`, the same
# public pages under /cy/ (config/urls.py, newsletter/languages.py). Names are each language's own, as the
# language switch shows them. The Welsh catalogue is locale/cy/LC_MESSAGES/django.po, its .mo committed.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
# Dates and numbers come from each language's format module (Django's en_GB and cy: "Dydd Llun, 9 Rhagfyr
# 2019"); these apply only where no format module does.
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "j F Y, H:i"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "newsletter" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

ARCHIVE_PAGE_SIZE = env.int("ARCHIVE_PAGE_SIZE", default=20)
# How long the web link in a subscriber's copy of an issue opens a subscribers-only issue (newsletter/tokens.py).
READER_LINK_MAX_AGE_DAYS = env.int("READER_LINK_MAX_AGE_DAYS", default=730)
SEARCH_PAGE_SIZE = env.int("SEARCH_PAGE_SIZE", default=10)  # results per page; each costs a snippet (ts_headline)

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "newsletter.tasks.record_heartbeat", "schedule": 60.0},
}

# --- operations ---
# Production serving (`make serve`: gunicorn, config/gunicorn.conf.py), security headers,
# the archive's page cache and /health/. See docs/deploy.md.

# WhiteNoise serves static files from STATIC_ROOT in the same gunicorn. With STATIC_MANIFEST
# on (make serve and production set it), `collectstatic` writes hashed, pre-compressed files
# that browsers keep for ever. It defaults to on only once a manifest exists, so a fresh
# checkout and the tests, which never collect, render pages with plain names.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=(STATIC_ROOT / "staticfiles.json").exists())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# HSTS is sent only on requests that arrived over TLS (the proxy says so in X-Forwarded-Proto);
# load balancers probe /health/ over plain HTTP, so it is not redirected.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# No inline script or style anywhere: our templates have none and Django's admin needs none.
# Images in issues may come from other sites, over HTTPS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "https:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

if REDIS_URL:
    # A Redis that stops answering must not hang every request.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})

# Rendered archive pages are kept this long at most (0: not cached); edits replace them at once.
# Off by default without Redis: the database cache would turn each page view into writes.
ARCHIVE_CACHE_SECONDS = env.int("ARCHIVE_CACHE_SECONDS", default=600 if REDIS_URL else 0)

# /health/ calls the worker stale when its last heartbeat (beat queues one a minute) is older than this.
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=180)

# --- delivery ---
# Sending issues (newsletter/delivery.py, docs/delivery.md). Times in seconds.
DELIVERY_BATCH_SIZE = env.int("DELIVERY_BATCH_SIZE", default=500)  # deliveries per batch task, one SMTP connection
# A batch task claims again over the same SMTP connection while rows are due, for up to this long.
DELIVERY_TASK_SECONDS = env.float("DELIVERY_TASK_SECONDS", default=10)
DELIVERY_PARALLEL_BATCHES = env.int("DELIVERY_PARALLEL_BATCHES", default=4)  # batch chains per issue
DELIVERY_LEASE_SECONDS = env.float("DELIVERY_LEASE_SECONDS", default=300)  # a claimed delivery's lease
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=6)  # transient failures before it fails for good
DELIVERY_BACKOFF_SECONDS = env.float("DELIVERY_BACKOFF_SECONDS", default=60)  # first retry; doubles, with jitter
DELIVERY_BACKOFF_MAX_SECONDS = env.float("DELIVERY_BACKOFF_MAX_SECONDS", default=1800)
DELIVERY_PAUSE_FAILURE_SHARE = env.float("DELIVERY_PAUSE_FAILURE_SHARE", default=0.05)  # pause past this share…
DELIVERY_PAUSE_WINDOW = env.int("DELIVERY_PAUSE_WINDOW", default=500)  # …of the last this many finished
DELIVERY_PAUSE_MIN_FINISHED = env.int("DELIVERY_PAUSE_MIN_FINISHED", default=100)  # judge only after this many
DELIVERY_RATE_LIMIT = env.float("DELIVERY_RATE_LIMIT", default=0)  # messages/s across all workers; 0: none
DELIVERY_SWEEP_SECONDS = env.float("DELIVERY_SWEEP_SECONDS", default=60)  # beat: due schedules, stalled sends
DELIVERY_SMTP_TIMEOUT = env.float("DELIVERY_SMTP_TIMEOUT", default=30)
# VERP: bounces go to <local>+<delivery>.<signature>@<domain>; unset: bounces@<the newsletter's sender domain>.
DELIVERY_BOUNCE_ADDRESS = env.str("DELIVERY_BOUNCE_ADDRESS", default="")
# The List-Unsubscribe mailto; unset: unsubscribe@<the newsletter's sender domain>. Read by process_bounces.
DELIVERY_UNSUBSCRIBE_ADDRESS = env.str("DELIVERY_UNSUBSCRIBE_ADDRESS", default="")
# Optional in-app DKIM signing (the relay usually signs): a PEM private key file, selector and domain.
DKIM_PRIVATE_KEY_FILE = env.str("DKIM_PRIVATE_KEY_FILE", default="")
DKIM_SELECTOR = env.str("DKIM_SELECTOR", default="")
DKIM_DOMAIN = env.str("DKIM_DOMAIN", default="")
# process_bounces: imap://user:pass@host/INBOX or imaps://… (or --maildir PATH).
BOUNCE_IMAP_URL = env.str("BOUNCE_IMAP_URL", default="")
ANYMAIL = {"WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task not acked within this time is given to another worker: keep it above the longest batch.
    _visibility = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility,
        "unacked_restore_interval": min(10, _visibility),
        "unacked_restore_throttle": 1,
    }
CELERY_BEAT_SCHEDULE["delivery-sweep"] = {"task": "newsletter.delivery.sweep", "schedule": DELIVERY_SWEEP_SECONDS}
# The queue workers consume and tasks go to; tests and bench_send use a queue of their own per run.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# --- subscribers ---
# The wording a reader agrees to on the subscribe form, and the privacy notice in force; both are
# stored with each subscription. Change PRIVACY_NOTICE_VERSION whenever the notice changes.
CONSENT_TEXT = env.str(
    "CONSENT_TEXT",
    default="Yes, email me each issue of the newsletters I chose. "
    "I can leave at any time with the link in every email.",
)
# The same wording in Welsh, shown on the Welsh confirm page and recorded for those who confirm there.
CONSENT_TEXT_CY = env.str(
    "CONSENT_TEXT_CY",
    default="Ydw, anfonwch bob rhifyn o'r cylchlythyrau a ddewisais ataf drwy e-bost. "
    "Gallaf adael unrhyw bryd drwy'r ddolen ym mhob e-bost.",
)
PRIVACY_NOTICE_VERSION = env.str("PRIVACY_NOTICE_VERSION", default="2024-01")
# Recorded when an editor (admin or CSV import) vouches that the person agreed.
EDITOR_CONSENT_TEXT = env.str(
    "EDITOR_CONSENT_TEXT", default="The person told an editor they agree to receive this newsletter."
)
SUBSCRIBE_RATE_WINDOW = env.int("SUBSCRIBE_RATE_WINDOW", default=3600)  # seconds
SUBSCRIBE_RATE_PER_IP = env.int("SUBSCRIBE_RATE_PER_IP", default=20)  # subscribe attempts per client IP per window
SUBSCRIBE_RATE_PER_ADDRESS = env.int("SUBSCRIBE_RATE_PER_ADDRESS", default=5)  # per email address per window
CONFIRMATION_MIN_INTERVAL = env.int("CONFIRMATION_MIN_INTERVAL", default=600)  # seconds between confirmation mails
# Behind one reverse proxy that sets X-Forwarded-For, rate limits use its last entry as the client IP.
RATELIMIT_TRUST_FORWARDED_FOR = env.bool("RATELIMIT_TRUST_FORWARDED_FOR", default=False)

# --- housekeeping ---
# Delivery rows of issues sent longer ago than this are summarised per issue (IssueDeliveryStats) and
# deleted by the daily beat task. Must stay above 30: the soft-bounce rule reads 30 days of deliveries.
DELIVERY_RETENTION_DAYS = env.int("DELIVERY_RETENTION_DAYS", default=90)
if DELIVERY_RETENTION_DAYS <= 30:
    raise ImproperlyConfigured("DELIVERY_RETENTION_DAYS must be more than 30 (the soft-bounce rule reads 30 days).")
CELERY_BEAT_SCHEDULE["prune-deliveries"] = {
    "task": "newsletter.sending.housekeeping.prune_deliveries",
    "schedule": 24 * 3600.0,
}
# Revisions of issues (docs/editor.md#history): saves by one editor within this many seconds fold into one;
# revisions older than REVISION_RETENTION_DAYS are pruned daily, except the approved, sent and latest ones.
REVISION_FOLD_SECONDS = env.int("REVISION_FOLD_SECONDS", default=300)
REVISION_RETENTION_DAYS = env.int("REVISION_RETENTION_DAYS", default=180)
CELERY_BEAT_SCHEDULE["prune-revisions"] = {"task": "newsletter.revisions.prune", "schedule": 24 * 3600.0}

# Reach (issue 14): click counters in Redis move into the database every minute (newsletter/models/reach.py);
# clicks within REACH_EARLY_SECONDS of an issue's send start are counted apart as a mail scanner's, and one
# client's hits beyond REACH_CLICKS_PER_MINUTE get a 429 and are not counted.
CELERY_BEAT_SCHEDULE["reach-flush"] = {"task": "newsletter.reach.flush", "schedule": 60.0}
REACH_EARLY_SECONDS = env.int("REACH_EARLY_SECONDS", default=30)
REACH_CLICKS_PER_MINUTE = env.int("REACH_CLICKS_PER_MINUTE", default=30)

# --- importer ---
# import_seeds refuses a seed file (or sidecar) larger than this, before reading it (docs/importer.md).
# The link check never requests loopback, private or link-local addresses unless this is on (tests).
LINKCHECK_ALLOW_PRIVATE = env.bool("LINKCHECK_ALLOW_PRIVATE", default=False)
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=4 * 1024 * 1024)
# The largest subscriber CSV import_subscribers and the admin read (newsletter/subscribers/csvio.py): ~500,000 rows.
SUBSCRIBER_IMPORT_MAX_BYTES = env.int("SUBSCRIBER_IMPORT_MAX_BYTES", default=64 * 1024 * 1024)

# --- API (newsletter/api, docs/api.md) ---
# Bearer tokens only (no session auth, so no CSRF to consider), JSON only, throttled on the cache.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["newsletter.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["newsletter.api.auth.TokenScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle", "newsletter.api.auth.TokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_RATE_ANON", default="60/hour"),
        "token": env.str("API_RATE_TOKEN", default="1000/hour"),
    },
    "EXCEPTION_HANDLER": "newsletter.api.errors.handler",
}

# --- webhooks (newsletter/webhooks, docs/api.md#webhooks) ---
# Webhook targets on loopback, link-local or private addresses are refused unless this is true (tests use it).
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)

# --- the inbox: feeds and mail (newsletter/inbox, docs/operations.md#the-inbox-feeds-and-mail) ---
# Feed sources are fetched by beat every FEEDS_SWEEP_SECONDS when their own interval has passed.
FEEDS_SWEEP_SECONDS = env.float("FEEDS_SWEEP_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["feeds-fetch-due"] = {"task": "newsletter.feeds.fetch_due", "schedule": FEEDS_SWEEP_SECONDS}
# Feeds on loopback, link-local or private addresses are refused unless this is true (tests use it).
FEEDS_ALLOW_PRIVATE = env.bool("FEEDS_ALLOW_PRIVATE", default=False)
FEEDS_TIMEOUT = env.float("FEEDS_TIMEOUT", default=15)  # seconds per request
FEEDS_MAX_BYTES = env.int("FEEDS_MAX_BYTES", default=2 * 1024 * 1024)  # a larger feed is refused
FEEDS_MAX_FAILURES = env.int("FEEDS_MAX_FAILURES", default=5)  # failures in a row before a source is paused
FEEDS_MAX_ITEMS_PER_FETCH = env.int("FEEDS_MAX_ITEMS_PER_FETCH", default=30)  # the newest; the rest wait
FEEDS_MAX_AGE_DAYS = env.int("FEEDS_MAX_AGE_DAYS", default=14)  # older entries never arrive (a new source's archive)
FEEDS_MAX_AGE = datetime.timedelta(days=FEEDS_MAX_AGE_DAYS)
FEEDS_USER_AGENT = env.str("FEEDS_USER_AGENT", default="WeeklyUpdate-Feeds/1")
# Mail into the inbox: contribute+<newsletter slug>@<domain> (CONTRIBUTIONS_ADDRESS gives the local part before
# the "+" and the domain; unset: contribute@<the newsletter's sender domain>), read from CONTRIBUTIONS_IMAP_URL
# (imap[s]://user:password@host/INBOX) by beat every CONTRIBUTIONS_MAIL_SECONDS, or `process_contributions --maildir`.
CONTRIBUTIONS_ADDRESS = env.str("CONTRIBUTIONS_ADDRESS", default="")
CONTRIBUTIONS_IMAP_URL = env.str("CONTRIBUTIONS_IMAP_URL", default="")
CONTRIBUTIONS_MAIL_SECONDS = env.float("CONTRIBUTIONS_MAIL_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["contributions-mailbox"] = {
    "task": "newsletter.contributions.read_mailbox",
    "schedule": CONTRIBUTIONS_MAIL_SECONDS,
}
CONTRIBUTIONS_MAX_MESSAGE_BYTES = env.int("CONTRIBUTIONS_MAX_MESSAGE_BYTES", default=5 * 1024 * 1024)  # larger: refused
CONTRIBUTIONS_MAIL_PER_SENDER = env.int("CONTRIBUTIONS_MAIL_PER_SENDER", default=10)  # items per sender per hour
CONTRIBUTIONS_HELD_PER_NEWSLETTER = env.int("CONTRIBUTIONS_HELD_PER_NEWSLETTER", default=50)  # held items per hour
