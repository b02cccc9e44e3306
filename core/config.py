"""Configuration from the environment, with safe development defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _kept_secret_key() -> str:
    """Outside production: a random key kept in instance/ (readable by its owner
    only) so sessions survive restarts."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
    key_file.chmod(0o600)
    return key_file.read_text().strip()


def _check_zone(name: object) -> None:
    """A CITY_TZ that names no zone stops the start, not the first request that reads the clock."""
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"CITY_TZ={name!r} is not an IANA time zone (e.g. Asia/Shanghai)") from exc


class Config:
    """Default configuration: embedded SQLite, inline jobs, Chinese UI."""

    def __init__(self, **overrides: object) -> None:
        # "production" (the default: gunicorn, RQ workers) or "development"
        # (`make demo`): production needs a real SECRET_KEY and sends cookies
        # over HTTPS only.
        self.APP_ENV = os.environ.get("APP_ENV", "production")
        self.SECRET_KEY = os.environ.get("SECRET_KEY")
        self.DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'dispatch.db'}")
        # Empty REDIS_URL means background jobs run inline in the request.
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        self.RQ_QUEUE = os.environ.get("RQ_QUEUE", "dispatch")
        # The city's time zone (IANA name): stored times are its wall-clock times and the
        # APIs send them with its offset. core.clock reads it from the app's config.
        self.CITY_TZ = os.environ.get("CITY_TZ") or "Asia/Shanghai"
        self.ACCESS_TOKEN_TTL_S = int(os.environ.get("ACCESS_TOKEN_TTL_S", 8 * 3600))
        self.REFRESH_TOKEN_TTL_S = int(os.environ.get("REFRESH_TOKEN_TTL_S", 30 * 86400))
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 12 * 1024 * 1024))
        self.PHOTO_DIR = os.environ.get("PHOTO_DIR", str(INSTANCE_DIR / "photos"))
        # Dispatcher console: map tiles from the operator's own tile server
        # ("https://tiles.example/{z}/{x}/{y}.png"); empty draws no base map.
        # Where addresses get coordinates (core.geocoding): nominatim:URL, baidu:KEY,
        # table:PATH or empty; unset, development and tests use the demo city's table.
        self.GEOCODER = os.environ.get("GEOCODER")
        self.GEOCODER_MIN_DELAY_S = float(os.environ.get("GEOCODER_MIN_DELAY_S", 1.0))
        self.TILE_URL = os.environ.get("TILE_URL", "")
        self.TILE_ATTRIBUTION = os.environ.get("TILE_ATTRIBUTION", "")
        self.SLA_AT_RISK_MIN = int(os.environ.get("SLA_AT_RISK_MIN", 60))
        self.SLA_RESPONSE_AT_RISK_MIN = int(os.environ.get("SLA_RESPONSE_AT_RISK_MIN", 15))
        self.CONSOLE_REFRESH_S = int(os.environ.get("CONSOLE_REFRESH_S", 15))
        # Follow-ups (回访): due this many days after an install, a repair or a complaint is
        # completed; an unreached call is tried again after the retry delay, and closed as
        # unreached after the last attempt. Group and local A companies get a periodic visit.
        self.FOLLOWUP_INSTALL_DUE_DAYS = float(os.environ.get("FOLLOWUP_INSTALL_DUE_DAYS", 3))
        self.FOLLOWUP_REPAIR_DUE_DAYS = float(os.environ.get("FOLLOWUP_REPAIR_DUE_DAYS", 1))
        self.FOLLOWUP_COMPLAINT_DUE_DAYS = float(os.environ.get("FOLLOWUP_COMPLAINT_DUE_DAYS", 1))
        self.FOLLOWUP_RETRY_DELAY_H = float(os.environ.get("FOLLOWUP_RETRY_DELAY_H", 4))
        self.FOLLOWUP_MAX_ATTEMPTS = int(os.environ.get("FOLLOWUP_MAX_ATTEMPTS", 3))
        self.FOLLOWUP_PERIODIC_DAYS = int(os.environ.get("FOLLOWUP_PERIODIC_DAYS", 90))
        self.FOLLOWUP_PERIODIC_TIERS = os.environ.get("FOLLOWUP_PERIODIC_TIERS", "group,local_a")
        # Close-out reports (PDF): a font covering Chinese, and its face in a collection (.ttc).
        self.REPORT_FONT = os.environ.get(
            "REPORT_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
        )
        self.REPORT_FONT_INDEX = int(os.environ.get("REPORT_FONT_INDEX", 2))
        self._notification_settings()
        self._road_settings()
        self.BABEL_DEFAULT_LOCALE = "zh"
        self.BABEL_SUPPORTED_LOCALES = ("zh", "en")
        self.BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
        # Failed logins before a login door locks (see core.throttle).
        self.LOGIN_FAILURES_PER_ACCOUNT = os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes")
        self.LOGIN_FAILURES_PER_ADDRESS = os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "30 per 15 minutes")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None
        self.TESTING = False
        # Empty means argon2-cffi's defaults (RFC 9106 low-memory profile).
        self.ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", 0)) or None
        self.ARGON2_MEMORY_KIB = int(os.environ.get("ARGON2_MEMORY_KIB", 0)) or None
        # flask-smorest / OpenAPI
        self.API_TITLE = "Broadband & IPTV field-service dispatch"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_REDOC_PATH = None
        self.OPENAPI_SWAGGER_UI_PATH = None
        self.JSON_SORT_KEYS = False
        for key, value in overrides.items():
            setattr(self, key, value)
        _check_zone(self.CITY_TZ)
        if self.APP_ENV == "production" and not self.TESTING:
            from core.security import check_production_secret

            check_production_secret(self.SECRET_KEY)
        elif not self.SECRET_KEY:
            self.SECRET_KEY = _kept_secret_key()
        if self.GEOCODER is None:
            self.GEOCODER = "demo" if self.APP_ENV in ("development", "testing") else ""
        if "SESSION_COOKIE_SECURE" not in overrides:
            self.SESSION_COOKIE_SECURE = self.APP_ENV == "production"

    def _road_settings(self) -> None:
        """A road router (an OSRM server's base URL, "http://osrm.internal:5000"): the console
        draws routes along its roads and live ETAs use its travel times; empty: straight lines
        and the planner's estimate (dispatch.roads)."""
        self.ROAD_ROUTER_URL = os.environ.get("ROAD_ROUTER_URL", "")
        self.ROAD_ROUTER_TIMEOUT_S = float(os.environ.get("ROAD_ROUTER_TIMEOUT_S", 5))

    def _notification_settings(self) -> None:
        """Customer notifications (core.delivery) and the periodic jobs (core.jobs.every).

        Unset SMTP_HOST / SMS_GATEWAY_URL: development and tests log each message and
        count it sent (the demo needs no server); production keeps it in the outbox.
        """
        env = os.environ.get
        self.SMTP_HOST = env("SMTP_HOST", "")
        self.SMTP_PORT = int(env("SMTP_PORT", 25))
        self.SMTP_USER = env("SMTP_USER", "")
        self.SMTP_PASSWORD = env("SMTP_PASSWORD", "")
        self.SMTP_TLS = env("SMTP_TLS", "starttls")  # starttls | ssl | none
        self.SMTP_FROM = env("SMTP_FROM", "noreply@localhost")
        self.SMTP_TIMEOUT_S = float(env("SMTP_TIMEOUT_S", 10))
        # The domain in each email's Message-ID (<notification-<id>@domain>); empty: SMTP_FROM's.
        self.MESSAGE_ID_DOMAIN = env("MESSAGE_ID_DOMAIN", "")
        self.SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", "")
        self.SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", "")
        self.SMS_SENDER_ID = env("SMS_SENDER_ID", "")
        self.SMS_TIMEOUT_S = float(env("SMS_TIMEOUT_S", 10))
        # Delivery: attempts before a message is marked failed; the wait after the n-th
        # failure is NOTIFY_BACKOFF_S * 2**(n-1), at most NOTIFY_BACKOFF_CAP_S; a claimed
        # message not marked within NOTIFY_CLAIM_LEASE_S (its worker died) is sent again.
        self.NOTIFY_MAX_ATTEMPTS = int(env("NOTIFY_MAX_ATTEMPTS", 8))
        self.NOTIFY_BACKOFF_S = int(env("NOTIFY_BACKOFF_S", 60))
        self.NOTIFY_BACKOFF_CAP_S = int(env("NOTIFY_BACKOFF_CAP_S", 3600))
        self.NOTIFY_CLAIM_LEASE_S = int(env("NOTIFY_CLAIM_LEASE_S", 300))
        self.NOTIFY_BATCH = int(env("NOTIFY_BATCH", 200))
        # How often the RQ tick job (re-enqueued on RQ's scheduler) runs the due periodic jobs.
        self.TICK_INTERVAL_S = int(env("TICK_INTERVAL_S", 60))

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}
