"""What changed between two designs: nodes and links added, removed or changed.

Nodes are matched by id; links by their two ends (node and interface), in either order, so
that swapping a link's endpoints is no change. A moved node (position only) is reported as
moved, not changed, because the canvas shows the two differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from netlab.core.document import Document, Link

Change = Literal["added", "removed", "changed", "moved"]


@dataclass(frozen=True)
class ElementChange:
    """One element that differs: ``kind`` is node or link, ``key`` names it."""

    kind: Literal["node", "link"]
    key: str
    change: Change
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "change": self.change,
            "fields": list(self.fields),
        }


@dataclass(frozen=True)
class Diff:
    """Every difference between an old and a new design, nodes first, in document order."""

    design: tuple[str, ...] = ()  # top-level fields that changed: name, title, description
    elements: tuple[ElementChange, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.design and not self.elements

    def as_dict(self) -> dict[str, Any]:
        return {
            "design": list(self.design),
            "elements": [element.as_dict() for element in self.elements],
        }


def link_key(link: Link) -> str:
    """Return a link's name: its two ends ``node:interface``, sorted, joined by `` -- ``."""
    ends = sorted(f"{endpoint.node}:{endpoint.interface}" for endpoint in link.endpoints)
    return " -- ".join(ends)


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key)))


def diff(old: Document, new: Document) -> Diff:
    """Return what changed from ``old`` to ``new``."""
    design_fields = tuple(
        name
        for name in ("name", "title", "description")
        if getattr(old, name) != getattr(new, name)
    )
    changes: list[ElementChange] = []

    old_nodes = {node.id: node.model_dump(by_alias=True) for node in old.nodes}
    new_nodes = {node.id: node.model_dump(by_alias=True) for node in new.nodes}
    for node_id, data in new_nodes.items():
        if node_id not in old_nodes:
            changes.append(ElementChange("node", node_id, "added"))
            continue
        fields = _changed_fields(old_nodes[node_id], data)
        if fields == ("position",):
            changes.append(ElementChange("node", node_id, "moved", fields))
        elif fields:
            changes.append(ElementChange("node", node_id, "changed", fields))
    changes += [
        ElementChange("node", node_id, "removed")
        for node_id in old_nodes
        if node_id not in new_nodes
    ]

    old_links = {link_key(link): _link_data(link) for link in old.links}
    new_links = {link_key(link): _link_data(link) for link in new.links}
    for key, data in new_links.items():
        if key not in old_links:
            changes.append(ElementChange("link", key, "added"))
        elif old_links[key] != data:
            changes.append(ElementChange("link", key, "changed", ("addresses",)))
    changes += [ElementChange("link", key, "removed") for key in old_links if key not in new_links]
    return Diff(design_fields, tuple(changes))


def _link_data(link: Link) -> dict[str, tuple[str, ...]]:
    """A link's addresses by end, whichever order its endpoints are written in."""
    return {f"{end.node}:{end.interface}": end.addresses for end in link.endpoints}


def overlay(old: Document, new: Document) -> dict[str, Any]:
    """Return ``new`` as data, with ``old``'s removed nodes and links added back for display.

    The result is for drawing a diff, not a valid document: removed elements sit beside
    the new ones (nodes at their old positions) so the canvas can show both.
    """
    data = new.to_data()
    kept_nodes = {node.id for node in new.nodes}
    kept_links = {link_key(link) for link in new.links}
    data["nodes"] = data.get("nodes", []) + [
        node.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        for node in old.nodes
        if node.id not in kept_nodes
    ]
    data["links"] = data.get("links", []) + [
        link.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        for link in old.links
        if link_key(link) not in kept_links
    ]
    return data


def change_marks(changes: Diff) -> dict[str, str]:
    """Return ``{"node:<id>" or "link:<key>": change}`` for colouring a canvas."""
    return {f"{element.kind}:{element.key}": element.change for element in changes.elements}
