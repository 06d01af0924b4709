"""Settings, read from the environment so one codebase runs embedded or in production.

Without any environment the site runs on an SQLite file with Celery tasks executed
in-process; with DATABASE_URL and CELERY_BROKER_URL it runs on PostgreSQL with real
Celery workers.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

from config.security import DEVELOPMENT_SECRET_KEY, lockout_parameters, refuse_unsafe_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


# A deployment sets SECRET_KEY; one that forgets DEBUG=false then still runs without debug
# pages. Only a checkout without SECRET_KEY (make run, tests) defaults to DEBUG with the
# built-in development key, and that key is refused whenever DEBUG is off.
DEBUG = env_bool("DEBUG", not os.environ.get("SECRET_KEY"))
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
refuse_unsafe_secret_key(SECRET_KEY, debug=DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "unfold",  # the admin theme: before django.contrib.admin, its contrib apps before the apps they style
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "config.apps.LoginThrottlingConfig",  # django-axes, named for people
    "csp",
    "simple_history",
    "performance",
    "commission",
    "config.apps.ConfigConfig",  # site-wide commands (seed_demo) and the permission matrix, over both apps
]

# django-import-export asks the matrix for "performance.import_order", "performance.export_order" …
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.security.AdminThemePolicyMiddleware",  # after CSPMiddleware: the admin theme's wider policy
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.FailureMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it answers a locked-out login
]

ROOT_URLCONF = "config.urls"
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
                "django.template.context_processors.i18n",
                "performance.org.access.nav",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # JIT compilation costs ~150 ms per query and these aggregates take well under a second:
    # it makes the close and the pages slower, never faster, so it is off for this app's sessions.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get("PG_OPTIONS", "-c jit=off")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 30}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Logins are checked by Django; what a login may do is only the permission matrix (config/policy.py,
# through django-rules): Django's per-user and per-group permission rows are not consulted.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password check
    "rules.permissions.ObjectPermissionBackend",
    "config.auth.LoginBackend",  # Django's password check, granting no permissions
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hr@example.com")

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# A command's failure is one line on the terminal; its traceback goes to this file (empty: stderr).
COMMAND_LOG_FILE = os.environ.get("COMMAND_LOG_FILE", str(BASE_DIR / "var" / "log" / "commands.log"))
# Login throttling (django-axes) on /login/ and /admin/login/: after AXES_FAILURE_LIMIT failed
# attempts the same login from the same address is refused for AXES_COOLOFF_HOURS; HR unlocks
# it earlier from the staff admin ("Unlock login"), a superuser also from "Access attempts".
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1")) or None  # 0: until unlocked
AXES_LOCKOUT_PARAMETERS = lockout_parameters(os.environ.get("AXES_LOCKOUT_PARAMETERS", "username+ip_address"))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_IP_HEADER = os.environ.get("AXES_IP_HEADER", "")  # e.g. HTTP_X_REAL_IP behind a proxy that sets it
AXES_VERBOSE = False

# Request and upload limits. Every import door (admin upload and import_data) refuses a file
# over its size; XLSX files are also capped on rows, columns and their unzipped size.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("DATA_UPLOAD_MAX_NUMBER_FIELDS", "2000"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads stream to a temporary file
FILE_UPLOAD_HANDLERS = [
    "performance.common.uploads.SizeLimitUploadHandler",  # first: stops an upload over the limit
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
IMPORTS = {
    "MAX_UPLOAD_MB": float(os.environ.get("IMPORT_MAX_UPLOAD_MB", "50")),
    "MAX_FILE_MB": float(os.environ.get("IMPORT_MAX_FILE_MB", "2048")),
    "XLSX_MAX_ROWS": int(os.environ.get("IMPORT_XLSX_MAX_ROWS", "1048576")),
    "XLSX_MAX_COLUMNS": int(os.environ.get("IMPORT_XLSX_MAX_COLUMNS", "100")),
    "XLSX_MAX_UNZIPPED_MB": float(os.environ.get("IMPORT_XLSX_MAX_UNZIPPED_MB", "1024")),
    "TMP_DIR": os.environ.get("IMPORT_TMP_DIR", ""),  # admin uploads between preview and confirm
}

# Content Security Policy (django-csp): scripts, styles, images and fetches from this site
# only; no inline script. The hashes allow exactly the inline handler and styles that
# django-import-export's and django-simple-history's admin templates carry.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_HASHES, "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"],
        "style-src": [
            SELF,
            UNSAFE_HASHES,
            "'sha256-mHgUAqxc8GPXM/QhzkHrHujcrQTU9fd6ZjWz+icxKcA='",  # padding: 0;
            "'sha256-+YWRMZ88jMyO7jVlBA52tZADiPobPIUA8LAWee68Fvs='",  # font-weight: bold;
            "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",  # border-top: 0
        ],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None

# Error reports (debug pages, admin emails) hide broker and database URLs and any password
# inside a URL, besides Django's own list (keys, tokens, passwords).
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.security.SecretsReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "config.security.SecretsExceptionReporter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "plain"},
        "commands": {
            "class": "config.logs.FileHandlerMakingDirs",
            "filename": COMMAND_LOG_FILE,
            "delay": True,
            "formatter": "plain",
        }
        if COMMAND_LOG_FILE
        else {"class": "logging.NullHandler"},
    },
    "loggers": {"performance.commands": {"handlers": ["commands"], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Celery: no broker means tasks run in-process (embedded mode).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# No task's result is read: the close's steps report through the database (CloseChunk), so a
# task never waits on the result backend (nor retries it when the broker is down).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "600"))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "cycles-open-and-close": {
        "task": "performance.appraisal.scheduling.cycles_tick_task",
        "schedule": 15 * 60,
    },
    "close-watchdog": {
        "task": "performance.appraisal.tasks.close_watchdog_task",
        "schedule": int(os.environ.get("CLOSE_WATCHDOG_SECONDS", "60")),
    },
    "complaints-mark-breaches": {
        "task": "performance.sla.tasks.complaints_mark_breaches_task",
        "schedule": 5 * 60,
    },
    "qa-weekly-sample": {
        "task": "performance.qa.tasks.qa_sample_last_week_task",
        "schedule": 6 * 60 * 60,
    },
}

# The admin theme (django-unfold): the HR dashboard is the admin's index page.
UNFOLD = {
    "SITE_TITLE": _("Appraisal admin"),
    "SITE_HEADER": _("Service staff appraisal"),
    "SITE_URL": "/",
    "SITE_SYMBOL": "insights",
    "SITE_FAVICONS": [
        {"rel": "icon", "sizes": "any", "type": "image/svg+xml", "href": lambda request: static("favicon.svg")}
    ],
    "SHOW_HISTORY": True,
    "SHOW_LANGUAGES": True,
    "DASHBOARD_CALLBACK": "config.dashboard.dashboard_callback",
    "STYLES": [lambda request: static("css/admin.css")],  # hashed names from the manifest in production
    "SIDEBAR": {"show_search": True, "show_all_applications": True},
    "COLORS": {
        "primary": {
            "50": "oklch(97% .014 254.604)",
            "100": "oklch(93.2% .032 255.585)",
            "200": "oklch(88.2% .059 254.128)",
            "300": "oklch(80.9% .105 251.813)",
            "400": "oklch(70.7% .165 254.624)",
            "500": "oklch(62.3% .214 259.815)",
            "600": "oklch(54.6% .245 262.881)",
            "700": "oklch(48.8% .243 264.376)",
            "800": "oklch(42.4% .199 265.638)",
            "900": "oklch(37.9% .146 265.522)",
            "950": "oklch(28.2% .091 267.935)",
        },
    },
}

# Business settings: every rule is data, these are only the defaults.
# Separation of duties (docs/permissions.md): nobody approves, adjusts or answers a question on their
# own payout; whoever added an adjustment to a payout does not approve it.
SEPARATION_OF_DUTIES = {
    "OWN_PAYOUT": env_bool("SOD_OWN_PAYOUT", True),
    "ADJUSTER_APPROVES": env_bool("SOD_ADJUSTER_APPROVES", True),
}
CURRENCY = os.environ.get("CURRENCY", "CNY")
COMPANY_NAME = os.environ.get("COMPANY_NAME", "")  # printed on statements; empty: the site's title
APPRAISAL = {
    "CLOSE_CHUNK_SIZE": int(os.environ.get("CLOSE_CHUNK_SIZE", "1000")),
    "CLOSE_GRACE_HOURS": int(os.environ.get("CLOSE_GRACE_HOURS", "48")),
    "APPEAL_DAYS": int(os.environ.get("APPEAL_DAYS", "7")),
    "AUTO_OPEN_FREQUENCY": os.environ.get("AUTO_OPEN_FREQUENCY", ""),
    "IMPROVEMENT_PLAN_AFTER": 2,
    "CHUNK_PAUSE_SECONDS": float(os.environ.get("CLOSE_CHUNK_PAUSE_SECONDS", "0")),
    # The close's watchdog (docs/deployment.md): a chunk silent for longer than its bound is sent again.
    "CLOSE_WATCHDOG_SECONDS": int(os.environ.get("CLOSE_WATCHDOG_SECONDS", "60")),
    "CLOSE_STALL_MIN_SECONDS": int(os.environ.get("CLOSE_STALL_MIN_SECONDS", "120")),
    "CLOSE_STALL_FACTOR": int(os.environ.get("CLOSE_STALL_FACTOR", "5")),
    "CLOSE_SECONDS_PER_MEMBER": float(os.environ.get("CLOSE_SECONDS_PER_MEMBER", "0.01")),
    "CLOSE_MAX_RESENDS": int(os.environ.get("CLOSE_MAX_RESENDS", "3")),
    "CLOSE_MAX_DELIVERIES": int(os.environ.get("CLOSE_MAX_DELIVERIES", "3")),
}
QA = {
    "SAMPLE_RATE": os.environ.get("QA_SAMPLE_RATE", "0.05"),
    "SEED": os.environ.get("QA_SEED", "qa"),
    "MIN_TICKETS_TO_SAMPLE": 20,
    "CHANNELS": [],
    "KINDS": [],
    "ALWAYS_INCLUDE_LOW_RATING": None,  # e.g. 2: every ticket rated 1–2 is inspected too
    "ALWAYS_INCLUDE_REOPENED": False,
    "DISPUTE_DAYS": 7,
}
