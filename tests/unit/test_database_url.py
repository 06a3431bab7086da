"""``NETLAB_DATABASE_URL``: read into Django's database settings, PostgreSQL through psycopg,
SQLite when unset, and a clear refusal of anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from netlab.settings import database


def test_unset_is_sqlite_in_the_given_file(tmp_path: Path) -> None:
    settings = database("", tmp_path / "netlab.sqlite3")
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == tmp_path / "netlab.sqlite3"
    assert (tmp_path / "netlab.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_full_url(tmp_path: Path) -> None:
    settings = database("postgresql://netlab:s3cret@db.example.org:5433/labs", tmp_path / "x")
    assert settings == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "labs",
        "USER": "netlab",
        "PASSWORD": "s3cret",
        "HOST": "db.example.org",
        "PORT": "5433",
        "OPTIONS": {},
    }
    assert not (tmp_path / "x").exists()  # no SQLite file made beside a PostgreSQL database


def test_the_socket_form() -> None:
    settings = database("postgresql:///netlab?host=/run/postgresql", Path("unused"))
    assert (settings["NAME"], settings["HOST"], settings["USER"], settings["PORT"]) == (
        "netlab",
        "/run/postgresql",
        "",
        "",
    )


def test_quoted_parts_and_driver_options() -> None:
    url = "postgres://lab%40ops:p%2Fss%3Aw@10.0.0.5/net%20lab?sslmode=require&connect_timeout=5"
    settings = database(url, Path("unused"))
    assert (settings["USER"], settings["PASSWORD"], settings["NAME"]) == (
        "lab@ops",
        "p/ss:w",
        "net lab",
    )
    assert settings["OPTIONS"] == {"sslmode": "require", "connect_timeout": "5"}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://netlab@localhost/netlab", "unknown scheme 'mysql'"),
        ("sqlite:///var/lib/netlab.sqlite3", "unknown scheme 'sqlite'"),
        ("/var/lib/netlab.sqlite3", "unknown scheme ''"),
        ("postgresql://netlab@localhost", "names no database"),
        ("postgresql://netlab@localhost:port/netlab", "Port could not be cast"),
    ],
)
def test_what_is_refused_says_why(url: str, words: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=words):
        database(url, Path("unused"))
