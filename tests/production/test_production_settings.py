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


def test_check_deploy_is_clean_with_the_production_environment(tmp_path: Path) -> None:
    """``check --deploy`` finds nothing to warn about in the documented production setup."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPOSITORY,
        env=production_environment(tmp_path),
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
