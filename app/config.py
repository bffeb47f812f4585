"""Configuration read from environment variables (README, « Configuration »)."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEV_SECRET_KEY = "dev-only-secret-key-never-in-production"  # noqa: S105 (refused in production)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'progres.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    # Languages: French first, English second (Flask-Babel).
    LANGUAGES = ("fr", "en")
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"

    # CSRF tokens live as long as the session: a review meeting page stays open for hours.
    WTF_CSRF_TIME_LIMIT = None

    # Sessions are rows of `user_session` (ASVS 7.x): idle and absolute lifetimes.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    # « Se souvenir de moi »: a longer session, still revocable server-side.
    REMEMBER_IDLE_TIMEOUT = timedelta(days=7)
    REMEMBER_ABSOLUTE_TIMEOUT = timedelta(days=30)
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "progres"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False

    # Single-use links.
    INVITATION_LIFETIME = timedelta(days=int(os.environ.get("INVITATION_DAYS", "7")))
    PASSWORD_RESET_LIFETIME = timedelta(minutes=30)

    # Argon2id (OWASP: m >= 19 MiB, t >= 2, p = 1).
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 19_456
    ARGON2_PARALLELISM = 1

    # Rate limiting (Flask-Limiter): memory per process by default, Redis in production.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_LOGIN_PER_IP = "10/minute;100/hour"
    RATELIMIT_LOGIN_PER_ACCOUNT = "20/hour"
    RATELIMIT_EMAIL_LINKS = "5/minute;30/hour"
    # Wrong two-factor codes (login's second step, « Mon compte »): with ±1 time-step accepted,
    # 30 guesses a day give an attacker who has the password 1 chance in 11,000 a day.
    RATELIMIT_SECOND_FACTOR_PER_IP = "10/minute;100/hour"
    RATELIMIT_SECOND_FACTOR_PER_ACCOUNT = "10/hour;30/day"
    # The login's second step waits this long for the code after the password.
    SECOND_FACTOR_PENDING_LIFETIME = timedelta(minutes=5)

    # E-mail outbox: SMTP when MAIL_SERVER is set, else written to the log.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Progrès <ne-pas-repondre@progres.localhost>")
    # Deliver what a request queued right after it commits; `flask outbox send` catches up.
    OUTBOX_DELIVER_AFTER_REQUEST = _env_bool("OUTBOX_DELIVER_AFTER_REQUEST", True)
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")

    # Live pages (Server-Sent Events): in-process bus for one process, Redis for several.
    LIVE_BUS_URL = os.environ.get("LIVE_BUS_URL", "memory://")
    LIVE_KEEPALIVE_SECONDS = float(os.environ.get("LIVE_KEEPALIVE_SECONDS", "10"))
    # Every contract page holds a stream, and a page left is noticed at the next keepalive:
    # room for a few tabs and quick navigation, not for one person taking all threads.
    LIVE_MAX_STREAMS_PER_USER = int(os.environ.get("LIVE_MAX_STREAMS_PER_USER", "12"))
    SSE_RETRY_MS = 2000

    # Plan defaults (DESIGN §3: the plan is built within six months of notification).
    PLAN_DEADLINE_MONTHS = 6
    # Above this many indicators, milestones and actions, the plan page sends objectives
    # closed and each loads its contents when it scrolls into view (bench/RESULTS.md).
    PLAN_LAZY_FROM = int(os.environ.get("PLAN_LAZY_FROM", "150"))
    SCHEDULE_CHUNK = int(os.environ.get("SCHEDULE_CHUNK", "100"))  # planning rows per load
    PORTFOLIO_PAGE = int(os.environ.get("PORTFOLIO_PAGE", "50"))  # « Mes marchés » lines per page
    # Above this many contracts, « Mes marchés » sends its table just after the page.
    PORTFOLIO_LAZY_FROM = int(os.environ.get("PORTFOLIO_LAZY_FROM", "20"))
    # An indicator with more periods than this sends its chart and values just after its page.
    INDICATOR_LAZY_FROM = int(os.environ.get("INDICATOR_LAZY_FROM", "24"))
    MIN_REVIEWS_PER_YEAR = 2

    # Attachments (pièces jointes, SECURITY.md §5): stored outside app/static, under random
    # names; one request body at most 20 MB (413 beyond), one file at most 10 MB (422).
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    # clamd: "" (no scan), "unix:///run/clamav/clamd.ctl" or "tcp://127.0.0.1:3310".
    ANTIVIRUS_CLAMD = os.environ.get("ANTIVIRUS_CLAMD", "")

    # Production proxy hops trusted for the client IP (ProxyFix); 0 = no proxy.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
    FORCE_HTTPS = False
    LOG_JSON = _env_bool("LOG_JSON", False)
    DEMO_DATA_ALLOWED = True


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Cheap Argon2 parameters for speed; one test checks the production ones.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    RATELIMIT_STORAGE_URI = "memory://"
    OUTBOX_DELIVER_AFTER_REQUEST = False
    WTF_CSRF_ENABLED = False  # tests of CSRF itself turn it back on
    LIVE_KEEPALIVE_SECONDS = 1.0
    SSE_RETRY_MS = 500
    PUBLIC_URL = "http://localhost"
    # Tests that store files set their own folder; the others must never write to instance/.
    UPLOAD_FOLDER = os.path.join(tempfile.gettempdir(), "progres-test-uploads")
    # A GET that writes outside database.writing() fails the test that made it.
    STRICT_READS = True


class ProductionConfig(Config):
    # PostgreSQL connections per worker: each of gunicorn's threads may hold one while it
    # serves a request (live streams hold none). SQLAlchemy's default (5 + 10) made requests
    # wait 30 s under load (bench/RESULTS.md); keep workers × (size + overflow) under the
    # server's max_connections.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_size": int(os.environ.get("DB_POOL_SIZE", "20")),
        "max_overflow": int(os.environ.get("DB_POOL_OVERFLOW", "20")),
        "pool_timeout": 10,
        "pool_pre_ping": True,
    }
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-progres"
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", True)
    LOG_JSON = _env_bool("LOG_JSON", True)
    DEMO_DATA_ALLOWED = False

    @classmethod
    def check(cls, config: dict) -> None:
        """Refuse to start with a missing or development secret (ASVS 13.3.1)."""
        key = config.get("SECRET_KEY") or ""
        if key == DEV_SECRET_KEY or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY manquante ou trop courte (32 caractères au moins) en production."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
