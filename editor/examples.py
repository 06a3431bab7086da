"""The tutorial's example designs, shipped as YAML files beside the core."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from netlab.core import codec
from netlab.core.document import Document

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "netlab" / "examples"


@dataclass(frozen=True)
class Example:
    """A read-only example: its file's stem is its slug, e.g. ``2-bridge``."""

    slug: str
    design: Document

    @property
    def name(self) -> str:
        return self.design.name


@cache
def examples() -> tuple[Example, ...]:
    """Return every shipped example, in file order. Invalid files fail loudly (a bug)."""
    return tuple(
        Example(path.stem, codec.load_text(path.read_text(), "yaml"))
        for path in sorted(EXAMPLES_DIR.glob("*.yaml"))
    )


def example(slug: str) -> Example | None:
    return next((item for item in examples() if item.slug == slug), None)
