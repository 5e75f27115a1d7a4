"""Configuration: defaults, then the environment, then the test mapping, then the instance TOML.

The instance TOML (`DSR_CONFIG`) describes the controller: its identity, DPO,
supervisory authority, processing register and connectors. A demo file ships
for development.
"""

import os
import tomllib
from pathlib import Path

import argon2.profiles
from flask import Flask

from dsr import sealed

#: the signing key of development only: it is in the source, so it protects nothing
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"
#: the shortest SECRET_KEY production accepts (bytes, UTF-8)
MIN_SECRET_KEY_BYTES = 32
DEMO_CONFIG = Path(__file__).parent / "demo" / "instance.toml"

HOUR = 3600
DAY = 24 * HOUR


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


def defaults(instance_path: str) -> dict:
    """Settings used when nothing else says otherwise."""
    return {
        # production unless development is asked for: a forgotten variable must not
        # leave the app signing with the key everyone can read in the source
        "DSR_ENV": "production",
        "SECRET_KEY": None,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(instance_path, 'dsr.sqlite3')}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "BASE_URL": "http://127.0.0.1:5000",
        #: production names its backends (development writes to the outbox)
        "MAIL_BACKEND": None,
        "MAIL_FROM": "dsr@localhost",
        "OUTBOX_DIR": os.path.join(instance_path, "outbox"),
        "SMTP_HOST": "localhost",
        "SMTP_PORT": 587,
        "SMTP_SECURITY": "starttls",
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_TIMEOUT": 30,
        "SMS_BACKEND": None,
        "SMS_GATEWAY_URL": None,
        "SMS_GATEWAY_TOKEN": None,
        "SMS_GATEWAY_TIMEOUT": 10,
        "RATELIMIT_SMS_CODE": "3 per hour",
        "RATELIMIT_SMS_PHONE": "5 per day",
        "RATELIMIT_SMS_CODE_CHECK": "10 per hour",
        "DSR_CONFIG": str(DEMO_CONFIG),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "VERIFY_LINK_MAX_AGE": 48 * HOUR,
        "STATUS_LINK_MAX_AGE": 400 * DAY,
        "DOWNLOAD_LINK_MAX_AGE": 30 * DAY,
        "TRANSFER_LINK_MAX_AGE": 14 * DAY,
        "PASSWORD_RESET_LINK_MAX_AGE": DAY,
        "RESTRICTION_LIFT_NOTICE_DAYS": 14,
        "ASK_REMINDER_DAYS": 14,
        "ASK_EXPIRY_DAYS": 30,
        "DOCUMENT_MAX_BYTES": 10_000_000,
        "INFO_LINK_MAX_AGE": 14 * DAY,
        "VERIFICATION_WINDOW_DAYS": 7,
        "RATELIMIT_SUBMIT_IP": "20 per hour",
        "RATELIMIT_SUBMIT_EMAIL": "5 per hour",
        "RATELIMIT_RESEND_IP": "10 per hour",
        "RATELIMIT_RESEND_EMAIL": "3 per hour",
        "RATELIMIT_HEADERS_ENABLED": False,
        "BABEL_DEFAULT_LOCALE": "fr",
        "WTF_CSRF_TIME_LIMIT": 4 * HOUR,
        "RESULTS_DIR": os.path.join(instance_path, "results"),
        "DSR_DATA_KEY": None,
        "RESULTS_RETENTION_DAYS": 30,
        "REQUESTS_RETENTION_DAYS": 1826,
        "CALLBACK_MAX_BYTES": 100 * 1024 * 1024,
        "STAFF_LOCKOUT_ATTEMPTS": 5,
        "STAFF_LOCKOUT_MINUTES": 15,
        "RATELIMIT_LOGIN_IP": "20 per minute",
        "RATELIMIT_CALLBACK_FAILURES": "30 per minute",
        "PASSWORD_HASH_PROFILE": "RFC_9106_LOW_MEMORY",
        "STAFF_IDLE_MINUTES": 30,
        "TRUSTED_PROXIES": 0,
        # the session cookie carries a staff sign-in: out of scripts' reach, not sent
        # cross-site, and HTTPS only in production (set in `configure`)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }


#: environment variable -> config key, with a converter
ENVIRONMENT = {
    "DSR_ENV": ("DSR_ENV", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "REDIS_URL": ("REDIS_URL", str),
    "BASE_URL": ("BASE_URL", str),
    "MAIL_BACKEND": ("MAIL_BACKEND", str),
    "MAIL_FROM": ("MAIL_FROM", str),
    "OUTBOX_DIR": ("OUTBOX_DIR", str),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_SECURITY": ("SMTP_SECURITY", str),
    "SMTP_USERNAME": ("SMTP_USERNAME", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "SMS_BACKEND": ("SMS_BACKEND", str),
    "SMS_GATEWAY_URL": ("SMS_GATEWAY_URL", str),
    "SMS_GATEWAY_TOKEN": ("SMS_GATEWAY_TOKEN", str),
    "SMS_GATEWAY_TIMEOUT": ("SMS_GATEWAY_TIMEOUT", float),
    "RATELIMIT_SMS_CODE": ("RATELIMIT_SMS_CODE", str),
    "RATELIMIT_SMS_PHONE": ("RATELIMIT_SMS_PHONE", str),
    "RATELIMIT_SMS_CODE_CHECK": ("RATELIMIT_SMS_CODE_CHECK", str),
    "DSR_CONFIG": ("DSR_CONFIG", str),
    "RESULTS_DIR": ("RESULTS_DIR", str),
    "DOWNLOAD_LINK_MAX_AGE": ("DOWNLOAD_LINK_MAX_AGE", int),
    "TRANSFER_LINK_MAX_AGE": ("TRANSFER_LINK_MAX_AGE", int),
    "PASSWORD_RESET_LINK_MAX_AGE": ("PASSWORD_RESET_LINK_MAX_AGE", int),
    "RESTRICTION_LIFT_NOTICE_DAYS": ("RESTRICTION_LIFT_NOTICE_DAYS", int),
    "ASK_REMINDER_DAYS": ("ASK_REMINDER_DAYS", int),
    "ASK_EXPIRY_DAYS": ("ASK_EXPIRY_DAYS", int),
    "DOCUMENT_MAX_BYTES": ("DOCUMENT_MAX_BYTES", int),
    "DSR_DATA_KEY": ("DSR_DATA_KEY", str),
    "RESULTS_RETENTION_DAYS": ("RESULTS_RETENTION_DAYS", int),
    "REQUESTS_RETENTION_DAYS": ("REQUESTS_RETENTION_DAYS", int),
    "CALLBACK_MAX_BYTES": ("CALLBACK_MAX_BYTES", int),
    "RATELIMIT_SUBMIT_IP": ("RATELIMIT_SUBMIT_IP", str),
    "RATELIMIT_SUBMIT_EMAIL": ("RATELIMIT_SUBMIT_EMAIL", str),
    "RATELIMIT_RESEND_IP": ("RATELIMIT_RESEND_IP", str),
    "RATELIMIT_RESEND_EMAIL": ("RATELIMIT_RESEND_EMAIL", str),
    "RATELIMIT_LOGIN_IP": ("RATELIMIT_LOGIN_IP", str),
    "RATELIMIT_CALLBACK_FAILURES": ("RATELIMIT_CALLBACK_FAILURES", str),
    "STAFF_LOCKOUT_ATTEMPTS": ("STAFF_LOCKOUT_ATTEMPTS", int),
    "STAFF_LOCKOUT_MINUTES": ("STAFF_LOCKOUT_MINUTES", int),
    "PASSWORD_HASH_PROFILE": ("PASSWORD_HASH_PROFILE", str),
    "STAFF_IDLE_MINUTES": ("STAFF_IDLE_MINUTES", int),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
}


def from_environment(environ=os.environ) -> dict:
    """The settings given as environment variables; ConfigError naming one that is not a number."""
    settings = {}
    for name, (key, convert) in ENVIRONMENT.items():
        if name not in environ:
            continue
        try:
            settings[key] = convert(environ[name])
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {environ[name]!r}") from None
    return settings


def load_instance(path: str) -> dict:
    """Parse the instance TOML, with an error that names the file and the line."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"DSR_CONFIG: no such file: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"DSR_CONFIG: {path} is not valid TOML: {exc}") from exc


def configure(app: Flask, test_config: dict | None) -> None:
    """Fill `app.config` in order of precedence and refuse unsafe production settings."""
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_mapping(from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    if "INSTANCE" not in app.config:
        app.config["INSTANCE"] = load_instance(app.config["DSR_CONFIG"])
    if app.config["DSR_ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
    else:
        app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or DEV_SECRET_KEY
        for backend in ("MAIL_BACKEND", "SMS_BACKEND"):
            app.config[backend] = app.config[backend] or "outbox"
    check(app.config)


def check(config) -> None:
    """Errors an operator must fix before the app may start."""
    if config["DSR_ENV"] not in ("development", "production"):
        raise ConfigError("DSR_ENV must be 'development' or 'production'")
    if config["DSR_ENV"] == "production":
        check_secret_key(config["SECRET_KEY"])
    if not hasattr(argon2.profiles, str(config["PASSWORD_HASH_PROFILE"])):
        raise ConfigError("PASSWORD_HASH_PROFILE must name a profile of argon2.profiles")
    for key, least in (("TRUSTED_PROXIES", 0), ("STAFF_IDLE_MINUTES", 1)):
        if not isinstance(config[key], int) or isinstance(config[key], bool) or config[key] < least:
            raise ConfigError(f"{key} must be a whole number ≥ {least}")
    for backend, real in (("MAIL_BACKEND", "smtp"), ("SMS_BACKEND", "http")):
        if config[backend] is None:
            raise ConfigError(
                f"{backend} is not set: production sends its messages; set {backend}={real}, "
                f"or {backend}=outbox to write them as files under OUTBOX_DIR only"
            )
    if config["MAIL_BACKEND"] not in ("outbox", "smtp"):
        raise ConfigError("MAIL_BACKEND must be 'outbox' or 'smtp'")
    if config["SMS_BACKEND"] not in ("outbox", "http"):
        raise ConfigError("SMS_BACKEND must be 'outbox' or 'http'")
    if config["SMS_BACKEND"] == "http" and not config["SMS_GATEWAY_URL"]:
        raise ConfigError("SMS_GATEWAY_URL: set the SMS gateway's address for SMS_BACKEND=http")
    if "controller" not in config["INSTANCE"]:
        raise ConfigError("DSR_CONFIG: the [controller] table is missing")
    check_processing(config["INSTANCE"].get("processing", {}))
    check_exemptions(config["INSTANCE"].get("exemptions", []))
    check_data_at_rest(config)
    check_questions(config)


def check_secret_key(key) -> None:
    """Production signs sessions and links with a key of its own, long enough to resist guessing."""
    if not key:
        raise ConfigError(
            "SECRET_KEY is not set: set it to a random value of at least "
            f"{MIN_SECRET_KEY_BYTES} bytes (or DSR_ENV=development on a development machine)"
        )
    if key == DEV_SECRET_KEY:
        raise ConfigError("SECRET_KEY: the development key is refused in production")
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes long")


def check_processing(processing: dict) -> None:
    """The `[processing]` table: which types start by themselves, how long callbacks may take."""
    import workflows

    auto_start = processing.get("auto_start", [])
    unknown = [name for name in auto_start if name not in workflows.names()]
    if not isinstance(auto_start, list) or unknown:
        raise ConfigError(
            f"DSR_CONFIG: processing.auto_start must list request types among "
            f"{', '.join(workflows.names())}; unknown: {', '.join(map(str, unknown))}"
        )
    days = processing.get("callback_timeout_days", 7)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ConfigError("DSR_CONFIG: processing.callback_timeout_days must be a whole number ≥ 1")


def check_exemptions(entries) -> None:
    """The `[[exemptions]]` a refusal may name besides the built-in ones (`dsr.exemptions`)."""
    from dsr import exemptions

    try:
        exemptions.check(entries)
    except exemptions.ExemptionConfigError as exc:
        raise ConfigError(f"DSR_CONFIG: {exc}") from exc


def check_data_at_rest(config) -> None:
    """The master key that wraps every request's data key, and the retention periods."""
    key = config.get("DSR_DATA_KEY")
    if not key and config["DSR_ENV"] == "production":
        raise ConfigError(
            "DSR_DATA_KEY: set the master key for data at rest (32 random bytes in base64 or hex, "
            "e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`); "
            "production has no default"
        )
    if key:
        try:
            sealed.parse_key(key)
        except ValueError as exc:
            raise ConfigError(f"DSR_DATA_KEY {exc}") from exc
    for name in ("RESULTS_RETENTION_DAYS", "REQUESTS_RETENTION_DAYS"):
        days = config[name]
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ConfigError(f"{name} must be a whole number of days ≥ 1")


def check_questions(config) -> None:
    """A question to the person: the reminder comes before the request closes unanswered."""
    reminder, expiry = config["ASK_REMINDER_DAYS"], config["ASK_EXPIRY_DAYS"]
    for name, days in (("ASK_REMINDER_DAYS", reminder), ("ASK_EXPIRY_DAYS", expiry)):
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ConfigError(f"{name} must be a whole number of days ≥ 1")
    if expiry <= reminder:
        raise ConfigError("ASK_EXPIRY_DAYS must be more than ASK_REMINDER_DAYS")
