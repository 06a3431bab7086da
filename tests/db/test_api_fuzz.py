"""The HTTP API fuzzed from the OpenAPI document it serves (schemathesis): whatever the
parameters and bodies, no answer is a server error, and every answer documented in the
schema has the documented shape. Bounded: derandomized, a few examples per operation.

The requests go to the WSGI application in this process, logged in by token as a user
with designs (one public, one link-shared, one with a second revision), so that the
authenticated operations reach their handlers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from factories import design_data
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from editor import services
from netlab.wsgi import application

pytestmark = pytest.mark.django_db

EXAMPLES = 12


# The schema as the app serves it (its own request reads no table).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture(autouse=True)
def _connection_kept() -> Iterator[None]:
    """Keep the test's connection through the application's requests, as Django's test
    client does: the handler closes it after each one, and with it the test's transaction
    and rows (SQLite ignores closing an in-memory database; PostgreSQL does not)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def designs(owner: Any, stranger: Any) -> None:
    """The owner's designs, and one of a stranger's the owner must never reach."""
    first = services.create_design(owner=owner, data=design_data(name="lab"))
    services.save_revision(first, author=owner, data=design_data(name="lab", title="second"))
    services.set_visibility(first, actor=owner, visibility="public")
    shared = services.create_design(owner=owner, data=design_data(name="shared"))
    services.set_visibility(shared, actor=owner, visibility="link")
    services.create_design(owner=stranger, data=design_data(name="theirs"))


@pytest.fixture
def bearer(owner: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.create_token(user=owner, name='fuzz')}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_schema(case: Any, designs: None, bearer: dict[str, str]) -> None:
    case.call_and_validate(
        headers=bearer,
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )
