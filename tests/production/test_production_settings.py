"""Production settings: the documented environment passes ``manage.py check --deploy`` with
no warning, and the Redis channel layer never times out an idle receive."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from netlab.settings import channel_layers

REPOSITORY = Path(__file__).resolve().parents[2]


def production_environment(data_dir: Path) -> dict[str, str]:
    """The README's production environment, and nothing of the caller's ``NETLAB_*``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NETLAB_")}
    environment.update(
        DJANGO_SETTINGS_MODULE="netlab.settings",
        NETLAB_DEBUG="0",
        NETLAB_SECRET_KEY=secrets.token_urlsafe(50),
        NETLAB_ALLOWED_HOSTS="netlab.example.org",
        NETLAB_REDIS_URL="redis://127.0.0.1:6379/0",
        NETLAB_DATA_DIR=str(data_dir),
    )
    return environment


@pytest.mark.parametrize(
    "database_url",
    ["", "postgresql://netlab:s3cret@127.0.0.1:5432/netlab"],
    ids=["sqlite", "postgresql"],
)
def test_check_deploy_is_clean_with_the_production_environment(
    tmp_path: Path, database_url: str
) -> None:
    """``check --deploy`` finds nothing to warn about in the documented production setup,
    with SQLite or PostgreSQL (its checks need no server)."""
    environment = production_environment(tmp_path)
    environment["NETLAB_DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    del environment["NETLAB_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "NETLAB_SECRET_KEY must be set" in result.stderr


def test_without_redis_the_layer_is_in_memory() -> None:
    (layer,) = channel_layers("").values()
    assert layer["BACKEND"] == "channels.layers.InMemoryChannelLayer"


@pytest.mark.parametrize("url", ["", "redis://127.0.0.1:6379/0"], ids=["in-memory", "redis"])
def test_a_channel_holds_a_ping_all(url: str) -> None:
    """A ping-all streams hundreds of cells to one page: Channels' default capacity (100)
    made the worker's sends fail with ChannelFull half-way."""
    (layer,) = channel_layers(url).values()
    assert layer["CONFIG"]["capacity"] >= 1000


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://redis.example.org:6380/2"], ids=["tcp", "tls"]
)
def test_redis_connections_read_without_a_timeout(url: str) -> None:
    """redis-py 8 would time blocking pops out after 5 s by default: the layer's pool turns
    the read timeout off (and keeps a connect timeout), so an idle receive just waits."""
    from channels_redis.utils import create_pool

    (host,) = channel_layers(url)["default"]["CONFIG"]["hosts"]
    pool = create_pool(dict(host))  # create_pool consumes the dict's "address"
    assert pool.connection_kwargs["socket_timeout"] is None
    assert pool.connection_kwargs["socket_connect_timeout"] == 5


def embedded_environment(data_dir: Path) -> dict[str, str]:
    """The embedded default (``make run``) with its data in ``data_dir``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NETLAB_")}
    environment.update(DJANGO_SETTINGS_MODULE="netlab.settings", NETLAB_DATA_DIR=str(data_dir))
    return environment


def migrate_with_umask_022(data_dir: Path) -> None:
    """Migrate as a default shell would (umask 022), which left ``data/`` 0755 and the
    database 0644: any local user could read the session keys."""
    result = subprocess.run(
        ["sh", "-c", f'umask 022; exec "{sys.executable}" manage.py migrate --verbosity 0'],
        cwd=REPOSITORY,
        env=embedded_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_data_folder_and_its_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    migrate_with_umask_022(data)
    assert mode(data) == 0o700
    modes = {path.name: mode(path) for path in data.iterdir()}
    assert modes == {"netlab.sqlite3": 0o600, "secret-key": 0o600}


def test_a_data_folder_left_open_by_an_older_netlab_is_closed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "netlab.sqlite3"
    database.touch(mode=0o644)
    database.chmod(0o644)
    migrate_with_umask_022(data)
    assert mode(data) == 0o700
    assert mode(database) == 0o600
