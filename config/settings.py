"""Settings, all read from the environment (see README "Configuration").

Nothing in the apps reads the environment: they read ``django.conf.settings``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("ALLOW_INSECURE_SECRET_KEY", False):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it (or DEBUG=1 for local development)."
        )
    # Development only: a fixed key so sessions survive restarts of the dev server.
    SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"  # noqa: S105

# Key of the HMAC that replaces IP addresses (forum/identity.py). Changing it makes
# existing bans and flag identities by IP stop matching.
IP_HASH_KEY = os.environ.get("IP_HASH_KEY") or f"ip-hash:{SECRET_KEY}"

# Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

# --- HTTPS and security headers (production defaults; DEBUG=1 relaxes them) ----
# Behind a proxy that terminates TLS, set TRUST_X_FORWARDED_PROTO=1 so Django knows
# which requests arrived over HTTPS (only if the proxy always sets the header).
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # django.contrib.admin, with the failed-password lockout on its login page
    "accounts.admin_apps.ForumAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "forum",
    "moderation",
    "moderation.desk",
    "fixtures",
    "notifications",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that may answer: every /api/ answer, errors too, gets CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    # Bodies longer than MAX_REQUEST_BODY_BYTES are a 413 before they are read.
    "forum.api.middleware.RequestBodyLimitMiddleware",
    # /api/ answers JSON errors, whatever DEBUG is, and refuses bodies that are not JSON.
    "forum.api.middleware.JsonErrorsMiddleware",
    "forum.api.middleware.JsonBodyOnlyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The longest request body accepted on any path (forum/api/middleware.py answers 413
# before reading a longer one). 1 MiB holds the longest post (POST_MAX_LENGTH
# characters) even with every character escaped; Django's parsers use the same bound.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# Any URL dj-database-url reads: sqlite:///path, postgres://user@host:5432/name ...
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A database that does not answer fails fast (a 503 with Retry-After, forum/api/errors.py)
# instead of holding the worker.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
# PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost: tens of
# milliseconds spent on statements that run in one or two (a thread page whose estimate
# grew with its table took 38 ms instead of 2, nearly all of it JIT). Every query here is
# short, indexed and repeated: DATABASE_JIT=1 gives the server's setting back.
DATABASE_JIT = env_bool("DATABASE_JIT", False)


def _postgres_options(database: dict, *, connect_timeout: int) -> None:
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", connect_timeout)
        if not DATABASE_JIT:
            options["options"] = (options.get("options", "") + " -c jit=off").strip()


_postgres_options(DATABASES["default"], connect_timeout=DATABASE_CONNECT_TIMEOUT)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections persist here too (CONN_MAX_AGE): SQLite's page cache belongs to the
    # connection, and one reopened per request re-reads every page it needs.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers go on while one writer writes; IMMEDIATE makes a
            # transaction take the write lock up front instead of failing mid-way.
            "transaction_mode": "IMMEDIATE",
            # A 32 MB page cache per connection (the default is 2 MB): big threads and
            # big imports stay in memory instead of spilling and re-reading pages.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"
            ),
            "timeout": 20,
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}

# PostgreSQL: DATABASE_POOL=1 gives each process a psycopg connection pool (for threaded
# workers) instead of one persistent connection per thread; the pool replaces
# CONN_MAX_AGE and checks its connections itself.
DATABASE_POOL = env_bool("DATABASE_POOL", False)


def _postgres_pool(database: dict) -> None:
    if DATABASE_POOL and database["ENGINE"] == "django.db.backends.postgresql":
        database["CONN_MAX_AGE"] = 0
        database["CONN_HEALTH_CHECKS"] = False
        database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 8),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
        }


_postgres_pool(DATABASES["default"])

# Optional read replicas (config/replicas.py): safe requests read a healthy replica
# that has replayed the caller's last write (its WAL position, kept in the cache),
# otherwise the primary. DATABASE_REPLICA_URLS is comma-separated; DATABASE_REPLICA_URL
# (one replica) still works and is added to them.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
DATABASE_REPLICA_URLS = list(
    dict.fromkeys(
        env_list("DATABASE_REPLICA_URLS", [])
        + ([DATABASE_REPLICA_URL] if DATABASE_REPLICA_URL else [])
    )
)
# A replica further behind than this (seconds of WAL not yet replayed) is skipped.
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 30)
# A replica that refused a connection, failed a query or lagged is skipped this long.
REPLICA_RETRY_SECONDS = env_int("REPLICA_RETRY_SECONDS", 30)
# How long a process keeps a replica's replay position before asking again.
try:
    REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS") or 1)
except ValueError as exc:
    raise ImproperlyConfigured("REPLICA_CHECK_SECONDS must be a number of seconds") from exc
# Seconds to wait for a replica's connection before skipping it.
REPLICA_CONNECT_TIMEOUT = env_int("REPLICA_CONNECT_TIMEOUT", 2)
REPLICA_DATABASES: list[str] = []
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _alias = f"replica_{_number}"
    DATABASES[_alias] = dj_database_url.parse(
        _url, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    _postgres_options(DATABASES[_alias], connect_timeout=REPLICA_CONNECT_TIMEOUT)
    _postgres_pool(DATABASES[_alias])
    REPLICA_DATABASES.append(_alias)
if REPLICA_DATABASES:
    DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "config.replicas.ReplicaMiddleware",
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Django's backend behind the failed-password lockout (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache ----------------------------------------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "forum"),
            # The cache is an optimisation: when Redis is down, reads miss (and come
            # from the database) and writes are dropped, with a log line, instead of
            # failing the request; rate limits count in the database meanwhile
            # (forum/ratelimit.py). Short timeouts: a dead Redis costs little.
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": env_int("CACHE_TIMEOUT_SECONDS", 1),
                "SOCKET_TIMEOUT": env_int("CACHE_TIMEOUT_SECONDS", 1),
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
elif CACHE_URL in ("", "locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL == "dummy://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
else:
    raise ImproperlyConfigured(
        f"CACHE_URL must be redis://..., locmem:// or dummy://, not {CACHE_URL!r}"
    )

# --- I18n / time ------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve static files from the finders when nothing was collected (dev and tests).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    # Authorization: Bearer <token> (or Token <token>); the session for the admin's users.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON bodies only (forum/api/middleware.py refuses others with 415 before any view).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # django-filter, refusing blank values where the schema has none (forum/api/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["forum.api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "forum.api.pagination.PageNumberPagination",
    # JSON whatever DEBUG is (the browsable rendering is /api/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON nested deeper than forum.api.parsers.MAX_DEPTH is a 400 before it is parsed.
    "DEFAULT_PARSER_CLASSES": ["forum.api.parsers.JSONParser"],
    # OPTIONS introspects no serializer (the thread's refers to itself).
    "DEFAULT_METADATA_CLASS": "forum.api.metadata.SimpleMetadata",
    "DEFAULT_SCHEMA_CLASS": "forum.api.openapi.ForumAutoSchema",
    "EXCEPTION_HANDLER": "forum.api.error_handlers.exception_handler",
    "PAGE_SIZE": 50,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Forum API",
    "DESCRIPTION": "Blogs, guest blogs, nested comments and moderation.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "forum.api.openapi.postprocess_limits",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CommentStatusEnum": "forum.models.CommentStatus",
        "PostStatusEnum": "forum.models.PostStatus",
        "ErasureCommentsEnum": "accounts.services.ErasureChoice.CHOICES",
        "ModerationTargetKindEnum": "moderation.models.TargetKind",
        "ModerationActionEnum": "moderation.models.ActionKind",
        "CommentActionEnum": "moderation.services.COMMENT_ACTIONS",
        "PostActionEnum": "moderation.services.POST_ACTIONS",
        "ExpectedStateEnum": "moderation.services.COMMENT_STATES",
        "FlagReasonEnum": "forum.models.FlagReason",
        "RemovalKindEnum": "forum.models.RemovalKind",
    },
}

# --- Cross-origin browser access (django-cors-headers) ----------------------------
# Off unless CORS_ALLOWED_ORIGINS names origins ("https://app.example.org,..."). Only the
# API answers cross-origin; credentials (cookies) are never shared: browser apps send
# Authorization: Bearer <token>.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "if-none-match",
    "x-edit-token",
]
CORS_EXPOSE_HEADERS = ["ETag", "X-Edit-Token", "Retry-After", "Location"]
CORS_PREFLIGHT_MAX_AGE = 3600

# --- Rate limits (forum/ratelimit.py; counters in Redis or the database) -------
# RATE_LIMIT_<SCOPE>="2/min,10/hour" overrides a scope; an empty value disables it.
_DEFAULT_RATE_LIMITS = {
    "comment_anon": "2/min,10/hour",  # per IP, callers without an account
    "comment_user": "10/min,100/hour",  # per account
    "comment_new_account": "1/30s",  # accounts younger than NEW_ACCOUNT_DAYS
    "write_anon": "10/min,50/hour",  # flags and guest posts, per IP
    "write_user": "30/min",
    "vote_anon": "30/min,300/hour",  # votes, per IP hash, callers without an account
    "vote_user": "60/min,600/hour",  # votes, per account
    "login": "6/min",  # token and registration attempts, per IP
    # Confirmation mails for reply notifications (nobody may mail-bomb a stranger):
    "confirm_mail_address": "2/hour,5/day",  # per e-mail address
    "confirm_mail_network": "10/hour,30/day",  # per /24 (IPv4) or /64 (IPv6) network
    # Failed passwords (accounts/lockout.py): when either is full, sign-in is refused,
    # even with the right password, until the oldest counted failure is that old.
    "login_failures_account": "5/15min",  # per account name, from anywhere
    "login_failures_network": "20/15min",  # per client network (IPv4 /24, IPv6 /64)
}
RATE_LIMITS = {
    scope: env_list(f"RATE_LIMIT_{scope.upper()}", rates.split(","))
    for scope, rates in _DEFAULT_RATE_LIMITS.items()
}
NEW_ACCOUNT_DAYS = env_int("NEW_ACCOUNT_DAYS", 7)

# --- Outside spam checker (moderation/spamcheck.py): off unless a URL is set ----
SPAM_CHECKER_URL = os.environ.get("SPAM_CHECKER_URL", "")
SPAM_CHECKER = os.environ.get(
    "SPAM_CHECKER", "moderation.spamcheck.HttpSpamChecker" if SPAM_CHECKER_URL else ""
)
SPAM_CHECKER_TIMEOUT = float(os.environ.get("SPAM_CHECKER_TIMEOUT", "3"))

# --- Forum behaviour ---------------------------------------------------------
FORUM = {
    "MAX_COMMENT_DEPTH": env_int("FORUM_MAX_COMMENT_DEPTH", 6),
    "COMMENT_MAX_LENGTH": env_int("FORUM_COMMENT_MAX_LENGTH", 20_000),
    "POST_MAX_LENGTH": env_int("FORUM_POST_MAX_LENGTH", 50_000),
    # How long posters may edit or delete their own comments (moderators: always).
    "EDIT_WINDOW_SECONDS": env_int("FORUM_EDIT_WINDOW_SECONDS", 15 * 60),
    # The same poster sending the same text again within this time gets 409.
    "REPEAT_WINDOW_SECONDS": env_int("FORUM_REPEAT_WINDOW_SECONDS", 5 * 60),
    # Distinct readers whose flags take an approved comment down for review.
    "FLAG_HIDE_THRESHOLD": env_int("FORUM_FLAG_HIDE_THRESHOLD", 3),
    "THREAD_MAX_PAGE_SIZE": 200,
    # How long a rendered thread page stays in the cache (forum/thread_cache.py); pages
    # are retired at once when the thread changes, this only bounds memory. 0: no caching.
    "THREAD_CACHE_SECONDS": env_int("FORUM_THREAD_CACHE_SECONDS", 600),
    # Each process also keeps the thread pages it served last, up to this many MB, and serves
    # them after checking their version in the shared cache (one small read). 0: off.
    "THREAD_LOCAL_CACHE_MB": env_int("FORUM_THREAD_LOCAL_CACHE_MB", 32),
    # With Redis: each process keeps the thread versions it read and Redis tells it when
    # one changes (client-side caching, RESP3 CLIENT TRACKING; Redis 6 or later), so a
    # page the process holds is served without a round trip. 0: read the version each time.
    "THREAD_VERSION_TRACKING": env_bool("FORUM_THREAD_VERSION_TRACKING", True),
    # PostgreSQL: commit a new comment without waiting for its WAL flush (forum/comment_tree.py,
    # SET LOCAL synchronous_commit TO OFF). A server crash may then lose the comments of the
    # last fraction of a second, never half of one; off by default.
    "ASYNC_COMMENT_COMMIT": env_bool("FORUM_ASYNC_COMMENT_COMMIT", False),
    # Dotted path of the class deciding who may comment and what is held (forum/policy.py).
    # The default is each blog's own rules (moderation.models.BlogPolicy, set by moderators);
    # forum.policy.OpenPolicy publishes everything.
    "COMMENT_POLICY": os.environ.get(
        "FORUM_COMMENT_POLICY", "moderation.policy.BlogModerationPolicy"
    ),
    # Dotted path of the class that takes the e-mail address a poster gives with a
    # comment (forum/subscriptions.py); the notifications app provides the real one.
    "REPLY_SUBSCRIPTIONS": "notifications.subscriptions.ReplySubscriptions",
}

# What the account export adds and the erasure removes besides the forum's own rows
# (accounts/services.py): dotted paths of functions taking ``user=``.
ACCOUNTS = {
    "EXPORT_HOOKS": ["notifications.services.account_export"],
    "ERASE_HOOKS": ["notifications.services.account_erase"],
}

# --- E-mail (Django's settings; notifications/ sends through them) -------------
# EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend prints mail (make demo).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "forum@localhost")
# Where the forum is reached from outside: the base of every link in mails and feeds.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

# --- Notifications: the outbox and its worker (notifications/, README "Notifications")
NOTIFICATIONS = {
    # Failed deliveries are retried after RETRY_BASE * 2**(attempt-1) seconds, at most
    # RETRY_MAX apart, and given up (status "failed", shown in the admin) once the
    # delivery is GIVE_UP_AFTER seconds old.
    "RETRY_BASE_SECONDS": env_float("NOTIFY_RETRY_BASE_SECONDS", 30),
    "RETRY_MAX_SECONDS": env_float("NOTIFY_RETRY_MAX_SECONDS", 3600),
    "GIVE_UP_AFTER_SECONDS": env_float("NOTIFY_GIVE_UP_AFTER_SECONDS", 24 * 3600),
    # A worker that claimed a delivery and died: others take it over after the lease.
    "LEASE_SECONDS": env_float("NOTIFY_LEASE_SECONDS", 120),
    "POLL_SECONDS": env_float("NOTIFY_POLL_SECONDS", 2),
    "BATCH_SIZE": env_int("NOTIFY_BATCH_SIZE", 20),
    # Moderators who chose the digest get one mail per this many seconds at most.
    "DIGEST_SECONDS": env_float("NOTIFY_DIGEST_SECONDS", 3600),
    # How long the approve/reject links in moderators' mails work.
    "MODERATION_LINK_SECONDS": env_int("NOTIFY_MODERATION_LINK_SECONDS", 3 * 24 * 3600),
    # How long a reply-mail confirmation link works.
    "CONFIRM_LINK_SECONDS": env_int("NOTIFY_CONFIRM_LINK_SECONDS", 7 * 24 * 3600),
    # Events are handled in id order; an event whose transaction stayed open longer
    # than this after it was recorded may be missed (see notifications/fanout.py).
    "EVENT_GRACE_SECONDS": env_int("NOTIFY_EVENT_GRACE_SECONDS", 600),
    "WEBHOOK_TIMEOUT_SECONDS": env_float("WEBHOOK_TIMEOUT_SECONDS", 5),
    # Webhook targets on private, loopback, link-local (... not global) addresses are
    # refused unless this is on (tests, a trusted internal network).
    "WEBHOOK_ALLOW_PRIVATE": env_bool("WEBHOOK_ALLOW_PRIVATE", False),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own loggers go to the root handler only: with DEBUG=1 Django's default
    # console handler would print every line twice.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
