"""How a deployment names its kernel namespaces. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from netlab.core import names
from netlab.core.document import NAMESPACE_KINDS, Document
from netlab.core.sites import Part


@dataclass(frozen=True)
class Naming:
    """How a deployment names its namespaces: ``names.namespace_name(tag, index, prefix)``.

    ``index`` is the node's position among the design's host and namespace nodes, in document
    order. With ``host_mode`` the host node maps to None: the process's own (root) namespace.
    ``kept`` is a running deployment's ``(node id, namespace)`` record: those nodes keep their
    namespaces, and new nodes are numbered after every name in it, so a changed design renames
    nothing that runs and reuses no name. No user text ever reaches a namespace name.
    ``part``: a lab across sites, of which this site builds only its part (its nodes keep
    the numbers they have in the whole design, so no two parts share a name).
    """

    tag: str
    prefix: str = names.NAMESPACE_PREFIX
    host_mode: bool = False
    kept: tuple[tuple[str, str | None], ...] = ()
    part: Part | None = None

    def namespaces(self, design: Document) -> dict[str, str | None]:
        """Return ``{node id: namespace name or None}`` for every host and namespace node."""
        kept = dict(self.kept)
        numbers = [
            names.namespace_index(netns, self.tag, self.prefix) for netns in kept.values() if netns
        ]
        fresh = max((number for number in numbers if number is not None), default=-1) + 1
        mapping: dict[str, str | None] = {}
        index = 0
        for node in design.nodes:
            if node.kind not in NAMESPACE_KINDS:
                continue
            if node.kind == "host" and self.host_mode:
                mapping[node.id] = None
            elif node.id in kept:
                mapping[node.id] = kept[node.id]
            elif self.kept:
                mapping[node.id] = names.namespace_name(self.tag, fresh, self.prefix)
                fresh += 1
            else:
                mapping[node.id] = names.namespace_name(self.tag, index, self.prefix)
            index += 1
        if self.part is not None:
            return {node: netns for node, netns in mapping.items() if node in self.part.nodes}
        return mapping

    def following(self, record: dict[str, str | None]) -> Naming:
        """This naming, keeping the namespaces a running deployment recorded."""
        return Naming(
            self.tag, self.prefix, self.host_mode, tuple(sorted(record.items())), self.part
        )


def namespace_count(document: Document) -> int:
    """Return how many namespaces a deployment of ``document`` creates: one per host and
    namespace node (bridges need none).

    The host is counted in host mode too, where it is the root namespace: a limit checked
    against this number errs on the safe side.
    """
    return sum(1 for node in document.nodes if node.kind in NAMESPACE_KINDS)
