"""The exported script, end to end: a public design's hostile title runs nothing (issue 9).

``GET /designs/<id>/export.sh`` and ``netlab export --format sh`` render the saved document
through ``netlab.core.shell``; a title that ends a comment line stays one comment.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

TITLE = "harmless\ntouch /tmp/pwned #\r\u2028$(touch pwned)"


def assert_runs_nothing_of_the_title(script: str) -> None:
    assert "\n# netlab: harmless\\ntouch /tmp/pwned #\\r\\u2028$(touch pwned)\n" in script
    assert not any(line.lstrip().startswith("touch") for line in script.splitlines())
    if shutil.which("bash") is not None:
        subprocess.run(["bash", "-n"], input=script.encode(), check=True, timeout=30)


def test_exported_script_keeps_the_title_in_one_comment(owner: Any, make_design: Any) -> None:
    """Before: the title's second line was a command of the downloaded script."""
    design = make_design("lab", title=TITLE)
    client = Client()
    client.force_login(owner)
    response = client.get(f"/designs/{design.pk}/export.sh")
    assert response.status_code == 200
    assert_runs_nothing_of_the_title(response.content.decode())


def test_cli_export_keeps_the_title_in_one_comment(make_design: Any) -> None:
    design = make_design("lab", title=TITLE)
    out = io.StringIO()
    call_command("netlab", "export", str(design.pk), "--format", "sh", stdout=out)
    assert_runs_nothing_of_the_title(out.getvalue())
