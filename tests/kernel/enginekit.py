"""Fixtures for the engine's kernel tests: a unique prefix, a state directory, and a teardown
that removes everything the test deployed, pass or fail.

Every namespace a test makes starts with its own prefix (``nlt`` and five random
characters), so the teardown's last resort (removing what still carries that prefix) can
only ever touch the test's own objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from netlab.bench import star_data
from netlab.core.document import Document
from netlab.core.validation import load
from netlab.kernel import engine, namespaces

EXAMPLES = Path(__file__).resolve().parents[2] / "netlab" / "examples"

requires_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="kernel tests need root (they create network namespaces)"
)


def tutorial(number: int) -> Document:
    """Return tutorial example ``number`` (1-4) as a valid design."""
    (path,) = EXAMPLES.glob(f"{number}-*.yaml")
    return load(yaml.safe_load(path.read_text()))


def design(data: dict[str, Any]) -> Document:
    return load({"format": "netlab/v1", "name": "test-lab", **data})


def star(count: int) -> Document:
    """``count`` namespaces on one bridge held by the host (10.77.0.0/16)."""
    return load(star_data(count, "10.77.0.0/16", name="test-lab"))


@dataclass
class Kit:
    """One test's prefix and state directory, and the deployments it made."""

    prefix: str
    state_dir: str

    def deploy(self, the_design: Document, **options: Any) -> engine.DeploymentRecord:
        return engine.deploy(the_design, prefix=self.prefix, state_dir=self.state_dir, **options)

    def destroy(self, record: engine.DeploymentRecord) -> Any:
        return engine.destroy(record.tag, state_dir=self.state_dir)

    def namespaces(self) -> list[str]:
        """Return this test's namespaces that exist now."""
        return [name for name in namespaces.list_names() if name.startswith(self.prefix)]
