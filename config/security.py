"""Settings that keep a deployment safe: the secret key rule, error reports without secrets,
and the client address that login throttling counts failures by.

Imported by ``config.settings`` before Django is set up: nothing here touches the apps.
"""

import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me"


def refuse_unsafe_secret_key(key: str, *, debug: bool) -> None:
    """Without DEBUG the site serves real people: the built-in development key is refused.

    >>> refuse_unsafe_secret_key(DEVELOPMENT_SECRET_KEY, debug=True)
    >>> refuse_unsafe_secret_key(DEVELOPMENT_SECRET_KEY, debug=False)
    Traceback (most recent call last):
    ...
    RuntimeError: SECRET_KEY must be set to a secret value when DEBUG is false (the built-in development key is public)
    """
    if not debug and (not key or key == DEVELOPMENT_SECRET_KEY):
        raise RuntimeError(
            "SECRET_KEY must be set to a secret value when DEBUG is false (the built-in development key is public)"
        )


def lockout_parameters(spec: str) -> list:
    """django-axes' AXES_LOCKOUT_PARAMETERS from a short text: ``,`` separates alternatives,
    ``+`` joins a combination.

    >>> lockout_parameters("username+ip_address")
    [['username', 'ip_address']]
    >>> lockout_parameters("ip_address, username")
    ['ip_address', 'username']
    """
    out = []
    for part in spec.split(","):
        names = [n.strip() for n in part.split("+") if n.strip()]
        if names:
            out.append(names if len(names) > 1 else names[0])
    return out or [["username", "ip_address"]]


def client_ip(request) -> str | None:
    """The address failed logins are counted by: REMOTE_ADDR, or the header AXES_IP_HEADER names
    (set it only behind a proxy that always sets that header itself)."""
    from django.conf import settings  # settings are read per request, after start-up

    header = getattr(settings, "AXES_IP_HEADER", "")
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<password>[^@/\s]+)@", re.I)


def without_url_passwords(text: str) -> str:
    """A URL's password replaced by stars.

    >>> without_url_passwords("redis://:s3cret@redis:6379/0 and postgres://app:pw@db/x")
    'redis://:********@redis:6379/0 and postgres://app:********@db/x'
    """
    return URL_PASSWORD.sub(r"\g<scheme>\g<user>:********@", text)


class SecretsReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus broker, result backend and database URLs hidden, and any URL's
    password starred wherever it appears in a setting or the request's environment."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|BROKER|RESULT_BACKEND|DATABASE_URL|DSN|REDIS|SENTRY",
        flags=re.I,
    )

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if type(value) is str:  # not lazy objects that pretend to be strings
            return without_url_passwords(value)
        return value

    def get_traceback_frame_variables(self, request, tb_frame):
        """Local variables too: one named like a secret is starred, a URL's password removed."""
        return [
            (name, self.cleansed_substitute if self.hidden_settings.search(name) else self.cleanse_setting("", value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class SecretsExceptionReporter(ExceptionReporter):
    """Error pages and mails whose exception text shows no URL password (a broker error names its URL)."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if type(data.get("exception_value")) is str:
            data["exception_value"] = without_url_passwords(data["exception_value"])
        return data


class AdminThemePolicyMiddleware:
    """The admin's own Content Security Policy, wider than the site's: django-unfold's Alpine.js
    evaluates its directives with ``Function`` (``'unsafe-eval'``) and the theme sets inline
    styles (its colour variables, Alpine's style bindings), which hashes cannot list.

    The site's pages keep the strict policy. Placed after ``csp.middleware.CSPMiddleware`` in
    MIDDLEWARE, so its response hook runs first and django-csp builds the header with it. The
    admin answers only logged-in staff, and its scripts are the theme's own static files.
    """

    ADMIN_UPDATE = {"script-src": ["'unsafe-eval'"]}
    ADMIN_REPLACE = {"style-src": ["'self'", "'unsafe-inline'"]}  # with hashes listed, 'unsafe-inline' is ignored

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request.resolver_match, "namespace", None) == "admin":
            response._csp_update = {**self.ADMIN_UPDATE, **(getattr(response, "_csp_update", None) or {})}
            response._csp_replace = {**self.ADMIN_REPLACE, **(getattr(response, "_csp_replace", None) or {})}
        return response
