"""Configuration read from the environment, with safe embedded defaults.

Every setting a deployer may change is read here, once, so that the README's
configuration table and the code cannot drift apart: ``ENV_VARS`` is that table.
Secrets that an embedded (single-machine) install needs but nobody set are generated
on first use and kept in the data directory, so restarts keep sessions and encrypted
fields readable; production sets them explicitly.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str
    meaning: str


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "YAJI_DATA_DIR", "./var", "Where the SQLite file, media and generated dev secrets live."
    ),
    EnvVar(
        "DATABASE_URL",
        "sqlite:///$YAJI_DATA_DIR/yaji.sqlite3",
        "Database; e.g. postgres://user@127.0.0.1:5432/yaji for production.",
    ),
    EnvVar("REDIS_URL", "(unset: in-process cache)", "Redis for cache, rate limits and gates."),
    EnvVar(
        "YAJI_CACHE_PREFIX",
        "yaji",
        "Prefix of every cache key, so several sites can share one Redis.",
    ),
    EnvVar(
        "SECRET_KEY", "(generated into the data dir)", "Django secret key; set it in production."
    ),
    EnvVar(
        "YAJI_ENCRYPTION_KEYS",
        "(generated into the data dir)",
        "Field-encryption keys `kid:base64key,...` (32-byte AES-256-GCM); the first encrypts, "
        "all decrypt, so keys can be rotated.",
    ),
    EnvVar(
        "YAJI_LOOKUP_KEY",
        "(generated into the data dir)",
        "HMAC key for blind indexes of encrypted values (phone login lookups).",
    ),
    EnvVar("YAJI_DEBUG", "0", "Django debug mode; never in production."),
    EnvVar("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]", "Comma-separated host names served."),
    EnvVar(
        "CSRF_TRUSTED_ORIGINS", "(empty)", "Comma-separated origins, e.g. https://yaji.example."
    ),
    EnvVar("YAJI_LOG_FORMAT", "json", "`json` (one object per line) or `text`."),
    EnvVar("YAJI_LOG_LEVEL", "INFO", "Root log level."),
    EnvVar("YAJI_TIME_ZONE", "Asia/Shanghai", "Time zone for display and day boundaries."),
    EnvVar(
        "YAJI_NOTIFY_SINK",
        "console",
        "Where one-time codes go: `console` (logged, for development), `outbox` "
        "(an event a real SMS/e-mail relay consumes) or `memory` (tests).",
    ),
    EnvVar(
        "YAJI_KYC_PROVIDER",
        "sandbox",
        "Real-name verification provider (`sandbox` checks ID checksums offline).",
    ),
    EnvVar(
        "YAJI_GIFT_PLATFORM_PERCENT",
        "30",
        "Percentage of each gift the platform keeps (0–100); the creator gets the rest.",
    ),
    EnvVar(
        "YAJI_SANDBOX_PAY_SECRET",
        "(generated into the data dir)",
        "HMAC-SHA256 key the sandbox payment provider signs its notifications with.",
    ),
    EnvVar(
        "YAJI_SANDBOX_PAY_DUPLICATE_RATE",
        "0.1",
        "Probability (0–1) that the sandbox payment provider sends a notification twice.",
    ),
    EnvVar(
        "YAJI_PAYMENT_PROVIDER",
        "sandbox",
        "Payment provider for new payments: `sandbox` (built in) or `wechatpay` (WeChat Pay API v3, needs the `YAJI_WECHATPAY_*` variables).",
    ),
    EnvVar(
        "YAJI_WECHATPAY_MCHID",
        "(empty)",
        "WeChat Pay merchant id (mchid).",
    ),
    EnvVar(
        "YAJI_WECHATPAY_APPID",
        "(empty)",
        "AppID bound to the merchant (official account / mini program / app).",
    ),
    EnvVar(
        "YAJI_WECHATPAY_SERIAL_NO",
        "(empty)",
        "Serial number of the merchant API certificate (sent as `serial_no` when signing requests).",
    ),
    EnvVar(
        "YAJI_WECHATPAY_PRIVATE_KEY_FILE",
        "(empty)",
        "Path of the merchant API private key (`apiclient_key.pem`) that signs requests.",
    ),
    EnvVar(
        "YAJI_WECHATPAY_PLATFORM_KEY_FILE",
        "(empty)",
        "Path of the WeChat Pay platform certificate or WeChat Pay public key (PEM) that verifies responses and notifications.",
    ),
    EnvVar(
        "YAJI_WECHATPAY_PLATFORM_SERIAL",
        "(empty)",
        "Serial of that platform certificate / public key id (`Wechatpay-Serial`).",
    ),
    EnvVar(
        "YAJI_WECHATPAY_AES_KEY",
        "(empty)",
        "The 32-character APIv3 key that decrypts notification resources (AEAD_AES_256_GCM).",
    ),
    EnvVar(
        "YAJI_WECHATPAY_NOTIFY_BASE_URL",
        "(empty)",
        "Public HTTPS origin WeChat Pay calls back, e.g. https://yaji.example (notify paths are appended).",
    ),
    EnvVar(
        "YAJI_ORDER_PAY_MINUTES",
        "30",
        "Minutes a buyer has to pay a checkout; then its orders cancel and the stock returns.",
    ),
    EnvVar(
        "YAJI_ORDER_AUTO_COMPLETE_DAYS",
        "7",
        "Days after delivery when an order completes by itself and is settled to the shop.",
    ),
    EnvVar(
        "YAJI_COMMISSION_BPS",
        "500",
        "Platform commission on goods in basis points (500 = 5 %), taken when an order settles.",
    ),
    EnvVar("YAJI_SECURE_COOKIES", "0", "Set 1 behind HTTPS: secure cookies and HSTS."),
    EnvVar(
        "YAJI_COPYRIGHT_LOG_KEY",
        "(generated into the data dir)",
        "Base64 32-byte Ed25519 seed the copyright log signs its checkpoints with; its public "
        "half is published at /copyright/log/key.",
    ),
    EnvVar(
        "YAJI_COPYRIGHT_LOG_ORIGIN",
        "yaji.local/copyright",
        "The copyright log's origin line in signed checkpoints (e.g. yaji.example/copyright).",
    ),
    EnvVar(
        "YAJI_MODERATION_REPORT_THRESHOLD",
        "3",
        "User reports (from different people) that put visible content on hold for review.",
    ),
    EnvVar(
        "YAJI_MODERATION_DHASH_DISTANCE",
        "6",
        "Largest Hamming distance (of 64 bits) at which an image matches a perceptual-hash "
        "blocklist entry.",
    ),
    EnvVar(
        "YAJI_MODERATION_CLASSIFIER",
        "noop",
        "Content classifier behind the word lists and image hashes; only `noop` (classifies "
        "nothing) ships today.",
    ),
    EnvVar(
        "YAJI_PAGE_CACHE",
        "1",
        "Cache the product, list and category pages of visitors without a session (ADR 0037); "
        "`0` turns it off.",
    ),
    EnvVar(
        "YAJI_BENCH_PROBES",
        "0",
        "Set 1 only for `yaji bench request-path`: mounts its probe endpoints under /api/v1/bench/.",
    ),
    EnvVar(
        "YAJI_AUTH_CACHE",
        "auto",
        "Bearer-token cache: `auto` (on with `REDIS_URL`), `on` (in-process without Redis: only "
        "for a single process), `off`.",
    ),
    EnvVar(
        "YAJI_AUTH_NEAR_CACHE",
        "1",
        "With the Redis token cache: every process keeps copies of its entries, kept current by "
        "Redis pub/sub, so a fast answer needs no Redis round trip (ADR 0060); 0 reads Redis.",
    ),
    EnvVar(
        "YAJI_FAST_PATH",
        "1",
        "Answer registered hot refusals (a sold-out red packet's grab) before Django, from Redis "
        "(ADR 0043); 0 sends every request to Django.",
    ),
    EnvVar(
        "YAJI_TRUSTED_PROXIES",
        "",
        "Comma-separated addresses or networks of your reverse proxies (e.g. `127.0.0.1`); "
        "requests from them get the client's address from `X-Forwarded-For` and the scheme from "
        "`X-Forwarded-Proto` (ADR 0062). Empty: `REMOTE_ADDR` as is.",
    ),
    EnvVar(
        "YAJI_PG_PREPARE",
        "1",
        "PostgreSQL: prepare the red-packet grab's hot raw statements on the server (ADR 0058); "
        "`0` for a transaction-mode pooler that does not track prepared statements.",
    ),
)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


def data_dir() -> Path:
    path = Path(env("YAJI_DATA_DIR", "./var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def persisted_secret(name: str, filename: str, factory) -> str:
    """The environment's value, else one generated once and kept in the data dir."""
    value = os.environ.get(name)
    if value:
        return value
    path = data_dir() / filename
    if path.exists():
        return path.read_text().strip()
    value = factory()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def generate_encryption_keys() -> str:
    return "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()


def generate_token() -> str:
    return secrets.token_urlsafe(48)


def generate_ed25519_seed() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()
