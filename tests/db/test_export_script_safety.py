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
from django.core.management import CommandError, call_command
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


def saved_before_scope_ids_were_refused(make_design: Any) -> Any:
    """A design whose stored revision holds a scope id, as one saved before the rule."""
    design = make_design("old-lab")
    revision = design.current
    revision.document["links"][0]["endpoints"][0]["addresses"] = ["fe80::1%eth0\ntouch x/64"]
    revision.save(update_fields=["document"])
    return design


def test_export_of_a_revision_that_no_longer_validates_says_why(
    owner: Any, make_design: Any
) -> None:
    """The page answers 422 naming the problem, never a 500 or a script."""
    design = saved_before_scope_ids_were_refused(make_design)
    client = Client()
    client.force_login(owner)
    response = client.get(f"/designs/{design.pk}/export.sh")
    assert response.status_code == 422
    assert "scope id" in response.content.decode()


def test_cli_export_of_a_revision_that_no_longer_validates_says_why(make_design: Any) -> None:
    design = saved_before_scope_ids_were_refused(make_design)
    with pytest.raises(CommandError, match="no longer passes validation"):
        call_command("netlab", "export", str(design.pk), "--format", "sh", stdout=io.StringIO())
