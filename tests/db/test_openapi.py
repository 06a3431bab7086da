"""The OpenAPI document a client downloads is valid and complete: every ``$ref`` resolves
inside it, the design document's schema included."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

from netlab.core.document import json_schema

pytestmark = pytest.mark.django_db

DOCUMENT_BODIES = [
    ("/api/designs", "post"),
    ("/api/designs/{design_id}", "put"),
    ("/api/validate", "post"),
]


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    """The document as served at /api/openapi.json, to anyone."""
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    target: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(target, dict), f"{ref} does not resolve"
        assert part in target, f"{ref} does not resolve"
        target = target[part]
    return target


def test_the_document_is_valid_openapi(published: dict[str, Any]) -> None:
    """openapi-spec-validator accepts it (it resolves every reference as it goes)."""
    assert published["openapi"].startswith("3.")
    validate(published)


def test_every_reference_resolves_inside_the_document(published: dict[str, Any]) -> None:
    refs = set(references(published))
    assert "#/components/schemas/DesignDocument" in refs
    for ref in refs:
        resolve(published, ref)
    assert not [ref for ref in refs if ref.startswith("#/$defs/")]


@pytest.mark.parametrize(("path", "method"), DOCUMENT_BODIES)
def test_document_bodies_are_the_design_document(
    published: dict[str, Any], path: str, method: str
) -> None:
    """POST/PUT of designs and POST /api/validate take the netlab/v1 document."""
    body = published["paths"][path][method]["requestBody"]
    schema = resolve(published, body["content"]["application/json"]["schema"]["$ref"])
    assert schema["title"] == json_schema()["title"]
    assert set(schema["properties"]) == set(json_schema()["properties"])


def test_every_part_of_the_document_is_a_component(published: dict[str, Any]) -> None:
    """The document's parts ($defs of its stand-alone schema) are components of their own."""
    components = published["components"]["schemas"]
    assert set(json_schema()["$defs"]) <= set(components)


def test_bounded_integers_are_published(published: dict[str, Any]) -> None:
    """Ids and revision numbers say their range, so clients and fuzzers stay within it."""
    parameters = published["paths"]["/api/designs/{design_id}/diff"]["get"]["parameters"]
    by_name = {parameter["name"]: parameter["schema"] for parameter in parameters}
    assert by_name["design_id"]["minimum"] == 1
    assert by_name["head"]["maximum"] == 2**31 - 1
