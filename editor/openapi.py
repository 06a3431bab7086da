"""The design document's JSON Schema, placed inside the published OpenAPI document.

``netlab.core.document.json_schema`` is a stand-alone JSON Schema: its parts live under
``$defs`` and its ``$id`` is its own base URI. Pasted as is into an operation, its
``#/$defs/...`` references point at a ``$defs`` the OpenAPI document does not have. Here
every part becomes a component and every reference points at ``#/components/schemas/``, so
each ``$ref`` of the downloaded document resolves within it.
"""

from __future__ import annotations

from typing import Any

from netlab.core.document import json_schema

DOCUMENT = "DesignDocument"
DOCUMENT_REF = f"#/components/schemas/{DOCUMENT}"
_DEFS = "#/$defs/"
_COMPONENTS = "#/components/schemas/"


def _rereferenced(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _COMPONENTS + item[len(_DEFS) :]
            if key == "$ref" and isinstance(item, str) and item.startswith(_DEFS)
            else _rereferenced(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rereferenced(item) for item in value]
    return value


def document_components() -> dict[str, Any]:
    """Return the design document and its parts as OpenAPI components, by name."""
    schema = _rereferenced(json_schema())
    parts: dict[str, Any] = schema.pop("$defs", {})
    # A $id would make the document's references resolve against netlab.invalid instead.
    for key in ("$id", "$schema"):
        schema.pop(key, None)
    return {**parts, DOCUMENT: schema}


def add_document_schema(openapi: dict[str, Any]) -> None:
    """Add the document's components to ``openapi``; raise if a name is already taken."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in document_components().items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"the OpenAPI component {name!r} would be defined twice")
        schemas[name] = schema
