"""Virtool settings: one env-driven file that runs with zero configuration on SQLite.

Every variable read here is listed, with its default, in `.env.example` and the README.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)  # the OS environment wins over .env


# --- Paths ------------------------------------------------------------------------------------------------
DATA_PATH = Path(env("VIRTOOL_DATA_PATH", default=str(BASE_DIR / "data"))).resolve()
WATCH_PATH = Path(env("VIRTOOL_WATCH_PATH", default=str(DATA_PATH / "watch"))).resolve()
DATA_PATH.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use DJANGO_SECRET_KEY, else a key generated once and kept in the data path."""
    if key := env("DJANGO_SECRET_KEY", default=""):
        return key
    path = DATA_PATH / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        # O_EXCL: when web and workers start together, exactly one process writes the key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


# --- Core -------------------------------------------------------------------------------------------------
SECRET_KEY = _secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
VIRTOOL_HOST = env("VIRTOOL_HOST", default="127.0.0.1")
VIRTOOL_PORT = env.int("VIRTOOL_PORT", default=9950)
# Behind an HTTPS reverse proxy: secure cookies, HSTS and redirects (what `check --deploy` asks for).
VIRTOOL_SECURE = env.bool("VIRTOOL_SECURE", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "core",
    "users",
    "jobs",
    "files",
    "samples",
    "references",
    "otus",
    "indexes",
    "subtractions",
    "hmm",
    "analyses",
    "software",
    "virtool_import",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.QueryStringMiddleware",
    "core.middleware.OriginCheckMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into users.throttle.lockout_response (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "virtool_site.urls"
WSGI_APPLICATION = "virtool_site.wsgi.application"
ASGI_APPLICATION = "virtool_site.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.virtool",
            ],
        },
    },
]

# --- Database: SQLite file in the data path unless DATABASE_URL says otherwise ------------------------------
DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{DATA_PATH / 'virtool.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
# Connections are kept between requests (opening one costs more than most API requests: for SQLite the connect
# and its PRAGMAs were a fifth of a request's time) and checked before reuse; 0 closes each at the request's end.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("VIRTOOL_DB_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN so that
    # concurrent writers (web + Celery workers) wait on the busy timeout instead of failing to upgrade a lock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
    # A file, not :memory:, so that daphne and Celery processes started by tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_PATH / "test_virtool.sqlite3")}
else:
    # bin/test names each run's test database, so that two runs on one server never share one.
    if test_name := env("VIRTOOL_TEST_DATABASE_NAME", default=""):
        DATABASES["default"]["TEST"] = {"NAME": test_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Rendered responses of the busiest lists kept per web process until the database changes (core/caching.py):
# at most this many (0: none) and this many MB.
VIRTOOL_RESPONSE_CACHE_ENTRIES = env.int("VIRTOOL_RESPONSE_CACHE_ENTRIES", default=512)
VIRTOOL_RESPONSE_CACHE_MB = env.int("VIRTOOL_RESPONSE_CACHE_MB", default=64)

# --- Accounts ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Virtool 2019's sha512+salt hashes of imported users (import_virtool); rehashed at their first login.
    "users.hashers.VirtoolSHA512PasswordHasher",
]
LOGIN_URL = "/login"
# django-axes checks every login (the API's, hence the login page's, and the Django admin's) before the password.
# ModelBackend and database sessions whose per-request reads are kept while the database is unchanged.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "users.backends.CachedModelBackend"]
SESSION_ENGINE = "users.sessions"
SESSION_COOKIE_AGE = 2_600_000  # Virtool's cookie max_age; "remember me" sessions live this long
SESSION_IDLE_SECONDS = env.int("VIRTOOL_SESSION_IDLE", default=3600)  # Virtool: authenticated sessions, 60 min
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True

# --- Login throttling (django-axes, users/throttle.py) --------------------------------------------------------
# After this many failed logins for one handle, or from one client address, logins answer 429 until the lockout
# expires (seconds after the last failure that caused it). A successful login clears the failures.
VIRTOOL_LOGIN_FAILURE_LIMIT = env.int("VIRTOOL_LOGIN_FAILURE_LIMIT", default=10)
VIRTOOL_LOGIN_LOCKOUT_SECONDS = env.int("VIRTOOL_LOGIN_LOCKOUT_SECONDS", default=900)
# Reverse proxies in front of daphne whose X-Forwarded-For is trusted for the client address (0: none).
VIRTOOL_PROXY_COUNT = env.int("VIRTOOL_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = "users.throttle.failure_limit"
AXES_COOLOFF_TIME = "users.throttle.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout always ends on time
AXES_USERNAME_CALLABLE = "users.throttle.login_handle"
AXES_CLIENT_IP_CALLABLE = "users.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "users.throttle.lockout_response"
AXES_VERBOSE = False

# --- Internationalisation ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: served by WhiteNoise straight from the apps, no collectstatic step ----------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_PATH / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Virtool instance limits (2019 server options: proc, mem and the small/large job sizes) ---------------
VIRTOOL_PROC = int(env("VIRTOOL_PROC", default="") or os.cpu_count() or 2)
VIRTOOL_MEM = env.int("VIRTOOL_MEM", default=16)
VIRTOOL_SM_PROC = env.int("VIRTOOL_SM_PROC", default=2)
VIRTOOL_SM_MEM = env.int("VIRTOOL_SM_MEM", default=4)
VIRTOOL_LG_PROC = env.int("VIRTOOL_LG_PROC", default=8)
VIRTOOL_LG_MEM = env.int("VIRTOOL_LG_MEM", default=16)
VIRTOOL_PROXY = env("VIRTOOL_PROXY", default="")

# --- Uploads ----------------------------------------------------------------------------------------------
# Largest upload accepted (bytes), and how many days an upload is kept before it expires (0: forever).
VIRTOOL_UPLOAD_MAX_SIZE = env.int("VIRTOOL_UPLOAD_MAX_SIZE", default=100 * 1024**3)
VIRTOOL_UPLOAD_LIFETIME_DAYS = env.int("VIRTOOL_UPLOAD_LIFETIME_DAYS", default=0)
# Hours an unfinished resumable (tus) upload is kept after the last bytes it received; beat then removes it.
VIRTOOL_UPLOAD_RESUMABLE_HOURS = env.float("VIRTOOL_UPLOAD_RESUMABLE_HOURS", default=24.0)
# Seconds a file in the watch folder must keep the same size (after being closed) before it is imported.
VIRTOOL_WATCH_SETTLE_SECONDS = env.float("VIRTOOL_WATCH_SETTLE_SECONDS", default=5.0)
# A client that sends nothing for this many seconds in the middle of a request (a stalled upload) gets a 408 and
# is disconnected (virtool_site/server.py); a slow but moving upload is never cut.
VIRTOOL_UPLOAD_STALL_SECONDS = env.int("VIRTOOL_UPLOAD_STALL_SECONDS", default=60)
# Request bodies Django spools before parsing stay on disk past this size (memory stays flat).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- GitHub releases (official references, HMM data, this software) ------------------------------------------
# GitHub's REST API; a token (optional) raises the rate limit from 60 to 5,000 requests an hour.
VIRTOOL_GITHUB_API_URL = env("VIRTOOL_GITHUB_API_URL", default="https://api.github.com")
VIRTOOL_GITHUB_TOKEN = env("VIRTOOL_GITHUB_TOKEN", default="")
# Longest wait (seconds) for GitHub's rate limit to lift before a request gives up and reports it.
VIRTOOL_GITHUB_MAX_WAIT = env.float("VIRTOOL_GITHUB_MAX_WAIT", default=60.0)
# Seconds between release checks (Virtool: every 10 minutes).
VIRTOOL_RELEASE_INTERVAL = env.float("VIRTOOL_RELEASE_INTERVAL", default=600.0)
# This software's own repository, whose releases administrators are told about ("": no check).
VIRTOOL_SOFTWARE_SLUG = env("VIRTOOL_SOFTWARE_SLUG", default="virtool/virtool-django")
# Repositories whose releases may be installed as remote references (Virtool allows only the official one).
VIRTOOL_REMOTE_REFERENCES = env.list("VIRTOOL_REMOTE_REFERENCES", default=["virtool/ref-plant-viruses"])

# --- HMMs -------------------------------------------------------------------------------------------------
# Largest profiles or annotations file an HMM install takes out of an archive (bytes, counted decompressed).
VIRTOOL_HMM_MAX_SIZE = env.int("VIRTOOL_HMM_MAX_SIZE", default=4 * 1024**3)

# --- NCBI BLAST of NuVs contigs -----------------------------------------------------------------------------
VIRTOOL_BLAST_URL = env("VIRTOOL_BLAST_URL", default="https://blast.ncbi.nlm.nih.gov/Blast.cgi")
# Seconds before the first check (at least NCBI's own estimate, RTOE), added after each check that finds the
# search still running, up to the cap; transient failures back off from the first interval, doubling.
VIRTOOL_BLAST_INTERVAL = env.float("VIRTOOL_BLAST_INTERVAL", default=5.0)
VIRTOOL_BLAST_MAX_INTERVAL = env.float("VIRTOOL_BLAST_MAX_INTERVAL", default=60.0)
# Consecutive failures to reach NCBI (or NCBI not knowing the search yet) before the search ends in an error.
VIRTOOL_BLAST_RETRIES = env.int("VIRTOOL_BLAST_RETRIES", default=5)
# Seconds after which a search NCBI has not finished ends in an error.
VIRTOOL_BLAST_TIMEOUT = env.float("VIRTOOL_BLAST_TIMEOUT", default=3600.0)

# --- NCBI E-utilities: GenBank records for the sequence form (GET /api/genbank/{accession}) -----------------
VIRTOOL_NCBI_EUTILS_URL = env("VIRTOOL_NCBI_EUTILS_URL", default="https://eutils.ncbi.nlm.nih.gov/entrez/eutils")
# Sent with every E-utilities request (with tool=virtool), as NCBI asks, so that it can write before blocking.
VIRTOOL_NCBI_EMAIL = env("VIRTOOL_NCBI_EMAIL", default="")

# --- Jobs -------------------------------------------------------------------------------------------------
# Name under which this host's reservations are kept (hosts sharing one name share one set of limits).
VIRTOOL_WORKER_HOST = env("VIRTOOL_WORKER_HOST", default="")
# Seconds between a running job's heartbeats, and after which a silent job is considered dead.
VIRTOOL_JOB_HEARTBEAT_SECONDS = env.float("VIRTOOL_JOB_HEARTBEAT_SECONDS", default=5.0)
VIRTOOL_JOB_STALE_SECONDS = env.float("VIRTOOL_JOB_STALE_SECONDS", default=60.0)
VIRTOOL_JOB_REAP_INTERVAL = env.float("VIRTOOL_JOB_REAP_INTERVAL", default=30.0)
# A waiting job whose message is not in the broker this many seconds after it was made or last sent is sent again
# (by beat every VIRTOOL_JOB_RESEND_INTERVAL seconds, and by each worker at start).
VIRTOOL_JOB_RESEND_GRACE = env.float("VIRTOOL_JOB_RESEND_GRACE", default=10.0)
VIRTOOL_JOB_RESEND_INTERVAL = env.float("VIRTOOL_JOB_RESEND_INTERVAL", default=10.0)
# Default time limit of a job (seconds); a workflow can set its own.
VIRTOOL_JOB_TIME_LIMIT = env.int("VIRTOOL_JOB_TIME_LIMIT", default=7 * 24 * 3600)
# Extra modules defining workflows (site-specific workflows; the test suite's own).
VIRTOOL_WORKFLOW_MODULES = [module for module in env.list("VIRTOOL_WORKFLOW_MODULES", default=[]) if module]

# --- Redis: Celery broker and Channels layer ----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # channels_redis blocks 5 s on each read; redis-py 8's default socket timeout is also 5 s, which
            # closed idle websockets. Its async pool also refuses the 101st connection, which a mass disconnect
            # of sockets (each discarding its groups at once) reached.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "max_connections": 10_000}],
            "prefix": env("VIRTOOL_CHANNEL_PREFIX", default="virtool"),
            # Each daphne process has one inbox in Redis for all its sockets, and is one member of each group for
            # all of them (core.fanout): one message per change. When the inbox is full, messages are dropped
            # (logged), never waited for: a slow process never blocks a sender.
            "capacity": 2000,
            "expiry": 60,
            # Each process renews its memberships every 30 minutes (core.fanout); those of a server that died
            # without saying goodbye are forgotten after this.
            "group_expiry": 7200,
        },
    }
}

# --- Celery -----------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that sends a job gives up on a broker that does not answer within about two seconds (it answers 503
# and the job is sent again later), instead of hanging.
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
# With acks_late on Redis, an unacknowledged message is redelivered after this long: longer than any job.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("VIRTOOL_VISIBILITY_TIMEOUT", default=43200)}
CELERY_TIMEZONE = "UTC"
# Housekeeping goes to `default`; job tasks route themselves to `small` or `large` by their size.
CELERY_TASK_ROUTES = {
    "core.tasks.*": {"queue": "default"},
    "files.tasks.*": {"queue": "default"},
    # Release checks are short HTTP calls: never in a job slot.
    "references.tasks.*": {"queue": "default"},
    "hmm.tasks.*": {"queue": "default"},
    "software.tasks.*": {"queue": "default"},
    # BLAST checks are short HTTP calls that wait between them: never in a job slot.
    "analyses.tasks.nuvs_blast_task": {"queue": "default"},
    "jobs.tasks.jobs_reap_task": {"queue": "default"},
    "jobs.tasks.jobs_resend_task": {"queue": "default"},
}
CELERY_BEAT_SCHEDULE = {
    "sessions-clear-expired": {
        "task": "core.tasks.sessions_clear_expired_task",
        "schedule": env.float("VIRTOOL_SESSION_CLEANUP_INTERVAL", default=3600.0),
    },
    "jobs-reap": {"task": "jobs.tasks.jobs_reap_task", "schedule": VIRTOOL_JOB_REAP_INTERVAL},
    "jobs-resend": {"task": "jobs.tasks.jobs_resend_task", "schedule": VIRTOOL_JOB_RESEND_INTERVAL},
    "references-releases": {
        "task": "references.tasks.references_releases_refresh_task",
        "schedule": VIRTOOL_RELEASE_INTERVAL,
    },
    "uploads-expire": {
        "task": "files.tasks.uploads_expire_task",
        "schedule": env.float("VIRTOOL_UPLOAD_EXPIRE_INTERVAL", default=600.0),
    },
    # Release checks, each one at a time across every worker (core.refresh.run_once).
    "hmm-release-refresh": {"task": "hmm.tasks.hmm_release_refresh_task", "schedule": VIRTOOL_RELEASE_INTERVAL},
    "software-release-refresh": {
        "task": "software.tasks.software_release_refresh_task",
        "schedule": VIRTOOL_RELEASE_INTERVAL,
    },
}

# --- DRF --------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.OriginCheckedSessionAuthentication",
        "users.authentication.APIKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.VirtoolPagination",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.VirtoolAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Virtool API",
    "DESCRIPTION": "Virtool-compatible REST API: samples, references, analyses and jobs for plant-virus diagnostics.",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["core.schema.drop_aliases"],
    "ENUM_NAME_OVERRIDES": {
        "AdministratorRoleEnum": "users.constants.AdministratorRole",
        "CallResultEnum": "analyses.pathoscope.calls.RESULTS",
        "JobStateEnum": "jobs.constants.JobState",
        "JobStateV2Enum": "jobs.constants.JobStateV2",
        "WorkflowStateEnum": "samples.constants.WorkflowState",
    },
}

# --- Security (production behind an HTTPS proxy: VIRTOOL_SECURE=true) ----------------------------------------
CSRF_TRUSTED_ORIGINS = [origin for origin in env.list("CSRF_TRUSTED_ORIGINS", default=[]) if origin]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if VIRTOOL_SECURE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("VIRTOOL_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("VIRTOOL_LOG_LEVEL", default="INFO")},
    # django-axes logs every login (and every cleared failure count) at INFO.
    "loggers": {"django.channels.server": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Sentry: Django and Celery errors, only when SENTRY_DSN is set ------------------------------------------
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.monitoring import sentry_init

    sentry_init(dsn=SENTRY_DSN)
