"""Django settings for Yaji. Every knob comes from yaji.config (the environment)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from yaji import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.persisted_secret("SECRET_KEY", "secret-key", config.generate_token)
DEBUG = config.env_bool("YAJI_DEBUG")
ALLOWED_HOSTS = config.env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = config.env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The storefront comes before the admin so its templates/admin/base_site.html (the brand
    # header and colours of the operators' console) overrides Django's.
    "yaji.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI from its own static files instead of a CDN
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    # kernel
    "yaji.core",
    # foundation
    "yaji.accounts",
    "yaji.ledger",
    # domains
    "yaji.payments",
    "yaji.catalog",
    "yaji.search",
    "yaji.moderation",
    "yaji.trade",
    "yaji.community",
    "yaji.copyright",
    "yaji.risk",
    "yaji.redpackets",
    # surfaces (yaji.web is listed first, above)
    "yaji.api",
    "yaji.demo",
    "yaji.bench",
]

MIDDLEWARE = [
    "yaji.core.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Site* = Django's (and htmx's) own, stepping aside for bearer-token API calls without
    # cookies, which use none of them (yaji.core.middleware, ADR 0053).
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "yaji.core.middleware.SiteCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yaji.core.middleware.SiteMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yaji.core.middleware.SiteHtmxMiddleware",
]

ROOT_URLCONF = "yaji.urls"
WSGI_APPLICATION = "yaji.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = config.env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'yaji.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at BEGIN
    # so two transactions never deadlock upgrading a read lock (ADR 0003).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if IS_POSTGRES:
    # Django's backend, its per-request health check without a round trip (ADR 0053).
    DATABASES["default"]["ENGINE"] = "yaji.core.pgbackend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------------
REDIS_URL = config.env("REDIS_URL")
# Without a timeout a Redis that stops answering (not one that refuses) hangs every request
# that touches the cache until gunicorn kills the worker; with one, the request fails or falls
# back (token auth and the gates catch RedisError) within a second.
REDIS_CACHE_OPTIONS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "yaji.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": config.env("YAJI_CACHE_PREFIX", "yaji"),
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered public pages for visitors without a session, keyed by content versions (ADR 0037).
YAJI_PAGE_CACHE = config.env_bool("YAJI_PAGE_CACHE", True)

# --- background work ------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- identity -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["yaji.accounts.auth_backends.IdentifierBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:profile"
LOGOUT_REDIRECT_URL = "web:home"

YAJI_ENCRYPTION_KEYS = config.persisted_secret(
    "YAJI_ENCRYPTION_KEYS", "encryption-keys", config.generate_encryption_keys
)
YAJI_LOOKUP_KEY = config.persisted_secret("YAJI_LOOKUP_KEY", "lookup-key", config.generate_token)
YAJI_NOTIFY_SINK = config.env("YAJI_NOTIFY_SINK", "console")
YAJI_KYC_PROVIDER = config.env("YAJI_KYC_PROVIDER", "sandbox")
YAJI_GIFT_PLATFORM_PERCENT = int(config.env("YAJI_GIFT_PLATFORM_PERCENT", "30"))
YAJI_ORDER_PAY_MINUTES = int(config.env("YAJI_ORDER_PAY_MINUTES", "30"))
YAJI_ORDER_AUTO_COMPLETE_DAYS = int(config.env("YAJI_ORDER_AUTO_COMPLETE_DAYS", "7"))
YAJI_COMMISSION_BPS = int(config.env("YAJI_COMMISSION_BPS", "500"))
YAJI_SANDBOX_PAY_SECRET = config.persisted_secret(
    "YAJI_SANDBOX_PAY_SECRET", "sandbox-pay-secret", config.generate_token
)
YAJI_SANDBOX_PAY_DUPLICATE_RATE = float(config.env("YAJI_SANDBOX_PAY_DUPLICATE_RATE", "0.1"))
YAJI_PAYMENT_PROVIDER = config.env("YAJI_PAYMENT_PROVIDER", "sandbox")
YAJI_WECHATPAY_MCHID = config.env("YAJI_WECHATPAY_MCHID")
YAJI_WECHATPAY_APPID = config.env("YAJI_WECHATPAY_APPID")
YAJI_WECHATPAY_SERIAL_NO = config.env("YAJI_WECHATPAY_SERIAL_NO")
YAJI_WECHATPAY_PRIVATE_KEY_FILE = config.env("YAJI_WECHATPAY_PRIVATE_KEY_FILE")
YAJI_WECHATPAY_PLATFORM_KEY_FILE = config.env("YAJI_WECHATPAY_PLATFORM_KEY_FILE")
YAJI_WECHATPAY_PLATFORM_SERIAL = config.env("YAJI_WECHATPAY_PLATFORM_SERIAL")
YAJI_WECHATPAY_AES_KEY = config.env("YAJI_WECHATPAY_AES_KEY")
YAJI_WECHATPAY_NOTIFY_BASE_URL = config.env("YAJI_WECHATPAY_NOTIFY_BASE_URL")
YAJI_COPYRIGHT_LOG_KEY = config.persisted_secret(
    "YAJI_COPYRIGHT_LOG_KEY", "copyright-log-key", config.generate_ed25519_seed
)
YAJI_COPYRIGHT_LOG_ORIGIN = config.env("YAJI_COPYRIGHT_LOG_ORIGIN", "yaji.local/copyright")
MODERATION_REPORT_HOLD_THRESHOLD = int(config.env("YAJI_MODERATION_REPORT_THRESHOLD", "3"))
MODERATION_DHASH_MAX_DISTANCE = int(config.env("YAJI_MODERATION_DHASH_DISTANCE", "6"))
MODERATION_CLASSIFIER = config.env("YAJI_MODERATION_CLASSIFIER", "noop")
YAJI_BENCH_PROBES = config.env_bool("YAJI_BENCH_PROBES")
# Bearer-token cache (ADR 0036): "auto" = only with Redis (shared by every process).
YAJI_AUTH_CACHE = config.env("YAJI_AUTH_CACHE", "auto")
if YAJI_AUTH_CACHE not in {"auto", "on", "off"}:
    raise ValueError("YAJI_AUTH_CACHE must be auto, on or off")
# Every process keeps near copies of the Redis token entries, kept current by pub/sub, and the
# fast path reads them first (ADR 0060, yaji.accounts.token_near).
YAJI_AUTH_NEAR_CACHE = config.env_bool("YAJI_AUTH_NEAR_CACHE", True)
# Hot refusals answered before Django (ADR 0043, yaji.core.fastpath).
YAJI_FAST_PATH = config.env_bool("YAJI_FAST_PATH", True)
YAJI_TRUSTED_PROXIES = config.env_list("YAJI_TRUSTED_PROXIES")  # ADR 0062
# The grab's hot raw statements prepared on PostgreSQL (ADR 0058, yaji.core.prepared).
YAJI_PG_PREPARE = config.env_bool("YAJI_PG_PREPARE", True)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = config.env("YAJI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at start-up about a missing root
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- security -------------------------------------------------------------------------------
_secure = config.env_bool("YAJI_SECURE_COOKIES")
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = 31536000 if _secure else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "yaji.core.observability.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "yaji.core.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": config.env("YAJI_LOG_FORMAT", "json"),
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": config.env("YAJI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django logs every 4xx as a WARNING line of its own; the access log already has the
        # status of every request, so that was a second JSON line per refusal (a sold-out
        # storm's 409s). 5xx still log at ERROR with the traceback (ADR 0036).
        "django.request": {"level": "ERROR"},
    },
}
