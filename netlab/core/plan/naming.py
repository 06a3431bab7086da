"""How a deployment names its kernel namespaces. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from netlab.core import names
from netlab.core.document import NAMESPACE_KINDS, Document


@dataclass(frozen=True)
class Naming:
    """How a deployment names its namespaces: ``names.namespace_name(tag, index, prefix)``.

    ``index`` is the node's position among the design's host and namespace nodes, in document
    order. With ``host_mode`` the host node maps to None: the process's own (root) namespace.
    No user text ever reaches a namespace name.
    """

    tag: str
    prefix: str = names.NAMESPACE_PREFIX
    host_mode: bool = False

    def namespaces(self, design: Document) -> dict[str, str | None]:
        """Return ``{node id: namespace name or None}`` for every host and namespace node."""
        mapping: dict[str, str | None] = {}
        index = 0
        for node in design.nodes:
            if node.kind not in NAMESPACE_KINDS:
                continue
            if node.kind == "host" and self.host_mode:
                mapping[node.id] = None
            else:
                mapping[node.id] = names.namespace_name(self.tag, index, self.prefix)
            index += 1
        return mapping


def namespace_count(document: Document) -> int:
    """Return how many namespaces a deployment of ``document`` creates: one per host and
    namespace node (bridges need none).

    The host is counted in host mode too, where it is the root namespace: a limit checked
    against this number errs on the safe side.
    """
    return sum(1 for node in document.nodes if node.kind in NAMESPACE_KINDS)
