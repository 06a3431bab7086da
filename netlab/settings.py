"""Django settings for netlab, all driven by ``NETLAB_*`` environment variables.

The defaults are the embedded layout: a laptop user runs one command and gets SQLite under
``data/``, an in-memory channel layer and the worker in the web process. Production sets
``NETLAB_DEBUG=0``, ``NETLAB_SECRET_KEY``, ``NETLAB_ALLOWED_HOSTS``, ``NETLAB_REDIS_URL``
and ``NETLAB_DATABASE_URL`` (PostgreSQL; see the README); a production start without a
secret key fails at once.
"""

import contextlib
import importlib.util
import os
import secrets
import urllib.parse
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# netlab uses no pydantic plugins; looking for them scans every installed package's entry
# points when the first model is built: 11 ms of each command line deploy and destroy.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"NETLAB_{name}", default)


def _env_flag(name: str, default: bool) -> bool:
    value = _env(name, "1" if default else "0").strip().lower()
    return value in ("1", "true", "yes", "on")


def private_directory(path: Path) -> Path:
    """``path``, created 0700 if missing, and tightened to 0700 if this user owns it.

    It holds the database (session keys, password hashes) and the development secret key:
    no other local user may read them. A folder owned by someone else (the web user's, seen
    from the root worker) is that owner's to set.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """``path``, created empty 0600 if missing (an empty file is an empty SQLite database).

    SQLite would create it 0644, and gives the ``-wal`` and ``-shm`` files it adds the
    database file's mode, so creating the database private keeps all three private.
    """
    if not path.exists() and path.parent.is_dir():
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists():
            _tighten(each, 0o600)
    return path


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o777 & ~mode:
        path.chmod(mode)


DEBUG = _env_flag("DEBUG", True)
DATA_DIR = private_directory(Path(_env("DATA_DIR", str(BASE_DIR / "data"))))


def _secret_key() -> str:
    key = _env("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("NETLAB_SECRET_KEY must be set when NETLAB_DEBUG=0")
    # Development: a key generated once and kept beside the database, never in the code.
    path = DATA_DIR / "secret-key"
    if not path.exists():
        private_file(path).write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [host for host in _env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if host]
CSRF_TRUSTED_ORIGINS = [origin for origin in _env("CSRF_TRUSTED_ORIGINS").split(",") if origin]

# Not daphne: its app imports Twisted (a third of the CLI's start-up) only to replace
# runserver; `manage.py netlab serve` starts daphne itself.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "editor",
]


# django-ninja's own templates and static files (Swagger UI, served here, never from a CDN),
# found without importing the package: as an installed app it imported ninja and its
# pydantic schemas in every command, ~85 ms of each CLI run that never serves the API.
def _package_directory(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # finds it without running its __init__
    if spec is None or spec.origin is None:
        raise ImproperlyConfigured(f"the Python package {name!r} is not installed")
    return Path(spec.origin).parent


_NINJA = _package_directory("ninja")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "netlab.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication, so that its page shows who is logged in; before any view
    # (or the CSRF check) reads the body.
    "editor.middleware.BodyLimitMiddleware",
]

ROOT_URLCONF = "netlab.urls"
WSGI_APPLICATION = "netlab.wsgi.application"
ASGI_APPLICATION = "netlab.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", _NINJA / "templates"],
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


def database(url: str, sqlite_path: Path) -> dict[str, Any]:
    """The database: PostgreSQL at ``url`` (production), else SQLite in ``sqlite_path``.

    ``url`` is ``postgresql://USER:PASSWORD@HOST:PORT/NAME``, or with the socket's folder as
    a parameter, ``postgresql:///NAME?host=/run/postgresql``; every part but the name may be
    left out (libpq's defaults: the local socket, the user's own name). Other parameters
    (``sslmode=require``, ``connect_timeout=5``...) go to psycopg as they are.
    """
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": private_file(sqlite_path),
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; the timeout waits
                # out the short write locks instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ImproperlyConfigured(
            f"NETLAB_DATABASE_URL: unknown scheme {parts.scheme!r} "
            "(postgresql://USER:PASSWORD@HOST:PORT/NAME, or leave it unset for SQLite)"
        )
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("NETLAB_DATABASE_URL names no database (…/NAME)")
    options = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    try:
        port = parts.port
    except ValueError as error:
        raise ImproperlyConfigured(f"NETLAB_DATABASE_URL: {error}") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": urllib.parse.unquote(parts.username or ""),
        "PASSWORD": urllib.parse.unquote(parts.password or ""),
        "HOST": options.pop("host", "") or urllib.parse.unquote(parts.hostname or ""),
        "PORT": str(options.pop("port", "") or port or ""),
        "OPTIONS": options,
    }


DATABASES = {
    "default": database(
        _env("DATABASE_URL"), Path(_env("DATABASE", str(DATA_DIR / "netlab.sqlite3")))
    )
}
# Every hop of the worker and the consumers into a thread ended by closing that thread's
# connection, and the next opened one again: 1 ms each on SQLite (more on PostgreSQL), four
# or five in a websocket destroy. Kept a minute by default, checked before reuse.
DATABASES["default"].update(
    CONN_MAX_AGE=int(_env("DATABASE_CONN_MAX_AGE", "60")), CONN_HEALTH_CHECKS=True
)

CHANNEL_CAPACITY = int(_env("CHANNEL_CAPACITY", "2000"))


def channel_layers(redis_url: str) -> dict[str, Any]:
    """The channel layer: Redis at ``redis_url`` (production), else in memory (embedded).

    redis-py 8 gives every socket a 5 s read timeout by default, while channels_redis
    waits for messages with blocking pops that the server itself ends after 5 s: an idle
    receive would then fail with "Timeout reading from ..." and take a consumer or the
    worker's receive loop down with it. Reads therefore wait as long as Redis holds them;
    connecting still gives up after a few seconds, so a Redis that is down shows at once.

    Both layers hold up to ``CHANNEL_CAPACITY`` messages per channel (Channels' default is
    100): a ping-all streams hundreds of cells to one page, and a burst of neighbour tables
    goes to every page at once, faster than a busy server forwards them. Past the capacity
    a direct send fails and a group send is silently dropped.
    """
    if not redis_url:
        return {
            "default": {
                "BACKEND": "channels.layers.InMemoryChannelLayer",
                "CONFIG": {"capacity": CHANNEL_CAPACITY},
            }
        }
    host = {"address": redis_url, "socket_timeout": None, "socket_connect_timeout": 5}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [host], "capacity": CHANNEL_CAPACITY},
        }
    }


REDIS_URL = _env("REDIS_URL")
CHANNEL_LAYERS = channel_layers(REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from the npm registry into node_modules/ (git-ignored); only
# the files the pages use are exposed, under static/vendor/.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/cytoscape", BASE_DIR / "node_modules" / "cytoscape" / "dist"),
    ("vendor/cytoscape-edgehandles", BASE_DIR / "node_modules" / "cytoscape-edgehandles"),
    # The fcose layout and the two libraries its browser build takes from globals.
    ("vendor/layout-base", BASE_DIR / "node_modules" / "layout-base"),
    ("vendor/cose-base", BASE_DIR / "node_modules" / "cose-base"),
    ("vendor/cytoscape-fcose", BASE_DIR / "node_modules" / "cytoscape-fcose"),
    ("vendor/js-yaml", BASE_DIR / "node_modules" / "js-yaml" / "dist"),
    # The console's terminal: its script and its stylesheet (linked, never inlined).
    ("vendor/xterm", BASE_DIR / "node_modules" / "@xterm" / "xterm" / "lib"),
    ("vendor/xterm-css", BASE_DIR / "node_modules" / "@xterm" / "xterm" / "css"),
    ("vendor/xterm-addon-fit", BASE_DIR / "node_modules" / "@xterm" / "addon-fit" / "lib"),
    _NINJA / "static",
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# HTTPS. Development serves plain HTTP; production (NETLAB_DEBUG=0) defaults to what
# `manage.py check --deploy` asks for, each switchable for a site that cannot have it yet
# (plain HTTP on a lab network: NETLAB_SSL_REDIRECT=0 NETLAB_SECURE_COOKIES=0
# NETLAB_HSTS_SECONDS=0). Behind a proxy that terminates TLS, NETLAB_PROXY_SSL=1 trusts its
# X-Forwarded-Proto header, and only then, or a client could claim HTTPS itself.
SECURE_SSL_REDIRECT = _env_flag("SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = _env_flag("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(_env("HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_flag("HSTS_PRELOAD", not DEBUG)
if _env_flag("PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Kernel side (the engine). Host mode (``deploy --host-mode``) maps the design's host node
# onto this machine's real root namespace: refused unless the operator turns it on.
NETLAB_HOST_MODE = _env_flag("HOST_MODE", False)
# A console line starting with "!" runs in bash, as root, in the node's namespace: for staff
# only, and only where the operator turns it on (it is root on this machine).
NETLAB_ROOT_SHELL = _env_flag("ROOT_SHELL", False)
NETLAB_STATE_DIR = _env("STATE_DIR", "/run/netlab")
NETLAB_NETNS_PREFIX = _env("NETNS_PREFIX", "netlab-")
# Quotas: a shared server must not let one user exhaust the machine.
NETLAB_MAX_NODES = int(_env("MAX_NODES", "2000"))
NETLAB_MAX_LINKS = int(_env("MAX_LINKS", "2000"))
NETLAB_MAX_RUNNING_PER_USER = int(_env("MAX_RUNNING_PER_USER", "3"))
NETLAB_MAX_NAMESPACES = int(_env("MAX_NAMESPACES", "2000"))
NETLAB_MAX_PROBES_PER_USER = int(_env("MAX_PROBES_PER_USER", "4"))
# A site (a worker's machine, ``netlab worker --site``) not seen for this many seconds is
# down: its running labs are shown as unknown until its worker is back.
NETLAB_SITE_TIMEOUT = float(_env("SITE_TIMEOUT", "30"))
# Probes run on threads of their own, so deployments never wait behind them; a ping-all
# pings at most this many (source, address) pairs (a 62-node campus is about 3,400).
NETLAB_PROBE_THREADS = int(_env("PROBE_THREADS", "8"))
NETLAB_MAX_PINGALL_CELLS = int(_env("MAX_PINGALL_CELLS", "5000"))
# A capture from a page: at most this long, and at most this many packets a second sent to
# the page (the others are counted, "not shown").
NETLAB_MAX_CAPTURE_SECONDS = float(_env("MAX_CAPTURE_SECONDS", "300"))
NETLAB_CAPTURE_PACKETS_PER_SECOND = int(_env("CAPTURE_PACKETS_PER_SECOND", "100"))
# A capture downloaded as pcap (GET /designs/<id>/capture.pcap) stops at this many bytes.
NETLAB_MAX_PCAP_BYTES = int(_env("MAX_PCAP_BYTES", str(50 * 1024 * 1024)))
# The largest request body (a design document sent to the API is its body): larger ones
# answer 413. Django's own limit on bodies it reads into memory follows it.
NETLAB_MAX_BODY_BYTES = int(_env("MAX_BODY_BYTES", str(4 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = NETLAB_MAX_BODY_BYTES

# The engine (a module implementing netlab.core.engine.Engine) that deployments and the CLI
# load when none is passed: the kernel's. Tests above the kernel name an in-memory one.
NETLAB_ENGINE = _env("ENGINE", "netlab.kernel.engine")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"netlab": {"handlers": ["console"], "level": _env("LOG_LEVEL", "INFO")}},
}
