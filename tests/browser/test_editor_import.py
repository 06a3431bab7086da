"""Other tools' labs in the editor, in a real Chromium: commands pasted onto a design, a
containerlab topology imported with the report of what it left out, and the saved revision
exported as a topology."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from editor_page import EditorPage, create_design
from factories import PAIR_TOPOLOGY
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "netlab" / "examples"
BRIDGE = yaml.safe_load((EXAMPLES / "2-bridge.yaml").read_text())
PASTED = """\
ip netns add green
ip link add veth-green type veth peer name veth-green-br
ip link set veth-green netns green
ip link set veth-green-br master v-net-0
ip -n green addr add 192.168.15.3 dev veth-green
apk add iperf3
"""


def test_pasted_commands_become_unsaved_edits_and_the_rest_is_listed(page: Page) -> None:
    design_id = create_design(page, BRIDGE)
    editor = EditorPage(page).open(design_id)
    name = editor.document()["name"]
    editor.by_testid("paste-commands").click()
    dialog = editor.by_testid("import-dialog")
    expect(dialog).to_be_visible()
    editor.by_testid("paste-text").fill(PASTED)
    editor.by_testid("paste-replay").click()
    notes = editor.by_testid("import-notes")
    expect(notes).to_contain_text("line 6: 'apk add iperf3' not imported (installs a package)")
    expect(notes).to_contain_text("192.168.15.3 has no prefix: /24")
    editor.by_testid("import-dialog-close").click()
    document = editor.document()
    assert document["name"] == name
    assert "green" in [node["id"] for node in document["nodes"]]
    green = next(link for link in document["links"] if link["endpoints"][0]["node"] == "green")
    assert green["endpoints"][0]["addresses"] == ["192.168.15.3/24"]
    assert green["endpoints"][1]["node"] == "v-net-0"
    expect(editor.by_testid("dirty")).to_be_visible()


def test_a_topology_file_imports_with_its_report(page: Page, tmp_path: Path) -> None:
    design_id = create_design(page, BRIDGE)
    editor = EditorPage(page).open(design_id)
    name = editor.document()["name"]
    path = tmp_path / "pair.clab.yml"
    path.write_text(PAIR_TOPOLOGY)
    editor.by_testid("import-file").set_input_files(str(path))
    notes = editor.by_testid("import-notes")
    expect(notes).to_contain_text("line 4: node a: 'image: alpine:3' not imported")
    editor.by_testid("import-dialog-close").click()
    document = editor.document()
    assert sorted(node["id"] for node in document["nodes"]) == ["a", "b", "host"]
    assert document["name"] == name  # the design keeps its name

    editor.save()
    editor.by_testid("export").click()
    with page.expect_download() as download:
        editor.by_testid("export-clab").click()
    assert download.value.suggested_filename == f"{name}.clab.yml"
    exported = yaml.safe_load(Path(download.value.path()).read_text())
    assert exported["topology"]["links"] == [{"endpoints": ["a:eth1", "b:eth1"]}]
