"""``manage.py netlab``: import, export, validate, list, token and ensure-admin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from factories import changed, design_data, tutorial_path

from editor.management.commands import netlab as command_line
from editor.models import ApiToken, Design, Revision
from netlab.core import codec
from netlab.core.interop import containerlab

pytestmark = pytest.mark.django_db

TUTORIALS = [1, 2, 3, 4]


def netlab(*args: str) -> tuple[str, str]:
    """Run ``manage.py netlab ARGS``; return its stdout and stderr."""
    out, err = StringIO(), StringIO()
    call_command("netlab", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(directory: Path, name: str, content: str | bytes) -> str:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def counts() -> tuple[int, int]:
    return Design.objects.count(), Revision.objects.count()


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


# import and export


@pytest.mark.parametrize("number", TUTORIALS)
@pytest.mark.parametrize("text_format", ["json", "yaml"])
def test_import_then_export_gives_the_same_document(owner, number, text_format):
    """An example imported and exported again is the same document, in either format."""
    path = tutorial_path(number)
    expected = codec.load_text(path.read_text(), "yaml")

    out, _ = netlab("import", str(path), "--owner", "olivia")
    design_id, name = last_line(out).split(" ")
    exported, _ = netlab("export", design_id, "--format", text_format)

    assert name == expected.name
    assert codec.load_text(exported, text_format) == expected
    assert exported == codec.dump(expected, text_format)
    parse = json.loads if text_format == "json" else yaml.safe_load
    assert parse(exported) == expected.to_data()


def test_import_prints_id_and_name_last(owner):
    """import's last line is "<id> <name>" of the new design, owned by --owner."""
    out, err = netlab("import", str(tutorial_path(1)), "--owner", "olivia")
    design = Design.objects.get()
    assert out.splitlines() == [f"{design.pk} tutorial-1-veth-pair"]
    assert err == ""
    assert design.owner == owner
    assert design.current.message == "imported from 1-veth-pair.yaml"


def test_import_takes_a_message(owner):
    """--message becomes the first revision's message."""
    netlab("import", str(tutorial_path(1)), "--owner", "olivia", "--message", "from CI")
    assert Design.objects.get().current.message == "from CI"


def test_import_of_a_taken_name_gets_a_free_name(owner, tmp_path):
    """Importing a name the owner already has creates ``<name>-2`` and says so."""
    netlab("import", str(tutorial_path(1)), "--owner", "olivia")
    out, _ = netlab("import", str(tutorial_path(1)), "--owner", "olivia")

    design = Design.objects.get(name="tutorial-1-veth-pair-2")
    lines = out.splitlines()
    assert lines[-1] == f"{design.pk} tutorial-1-veth-pair-2"
    assert "already has a design named 'tutorial-1-veth-pair'" in lines[0]
    assert design.document["name"] == "tutorial-1-veth-pair-2"


def test_import_defaults_to_the_first_admin(django_user_model):
    """Without --owner the design goes to the site's first superuser."""
    admin = django_user_model.objects.create_superuser(username="root", password="x")
    netlab("import", str(tutorial_path(2)))
    assert Design.objects.get().owner == admin


def test_import_without_an_admin_asks_for_an_owner():
    """Without --owner and without any superuser, import refuses and saves nothing."""
    with pytest.raises(CommandError, match="--owner"):
        netlab("import", str(tutorial_path(1)))
    assert counts() == (0, 0)


def test_import_for_an_unknown_user_fails(owner):
    """--owner naming nobody is an error."""
    with pytest.raises(CommandError, match="no user 'nobody'"):
        netlab("import", str(tutorial_path(1)), "--owner", "nobody")
    assert counts() == (0, 0)


def test_import_of_a_json_file(owner, tmp_path):
    """A .json file is read as JSON."""
    path = write(tmp_path, "lab.json", json.dumps(design_data(name="from-json")))
    out, _ = netlab("import", path, "--owner", "olivia")
    assert last_line(out).endswith(" from-json")


def test_import_of_an_invalid_file_saves_nothing(owner, tmp_path):
    """An invalid file is refused with its problems and nothing is saved."""
    bad = changed(design_data(), {"links[0].endpoints[0].addresses[0]": "192.168.15.300/24"})
    path = write(tmp_path, "bad.json", json.dumps(bad))
    with pytest.raises(CommandError, match=r"links\[0\]\.endpoints\[0\]\.addresses\[0\]"):
        netlab("import", path, "--owner", "olivia")
    assert counts() == (0, 0)


def test_export_by_name(make_design):
    """A design is found by its name when only one design has it."""
    design = make_design("lab")
    out, _ = netlab("export", "lab")
    assert json.loads(out) == design.document


@pytest.mark.parametrize(
    ("reference", "message"),
    [("999", "no design with id 999"), ("nothing", "no design named 'nothing'")],
)
def test_export_of_an_unknown_design_fails(make_design, reference, message):
    """An id or name that matches no design is an error naming it."""
    make_design("lab")
    with pytest.raises(CommandError, match=message):
        netlab("export", reference)


def test_export_of_an_ambiguous_name_asks_for_the_id(make_design, stranger):
    """A name two users' designs share is an error listing their ids; the ids still work."""
    first = make_design("lab")
    second = make_design("lab", owner=stranger)
    with pytest.raises(CommandError, match=rf"ids {first.pk}, {second.pk}"):
        netlab("export", "lab")
    assert json.loads(netlab("export", str(second.pk))[0]) == second.document


def test_export_of_an_unknown_format_is_refused(make_design):
    """Only the offered formats are accepted."""
    make_design("lab")
    with pytest.raises(CommandError):
        netlab("export", "lab", "--format", "xml")


# validate


@pytest.mark.parametrize("number", TUTORIALS)
def test_validate_a_good_file(number):
    """A valid file is reported valid with its node and link counts; nothing is saved."""
    path = tutorial_path(number)
    design = codec.load_text(path.read_text(), "yaml")
    out, _ = netlab("validate", str(path))
    assert out == (f"{path}: valid ({len(design.nodes)} nodes, {len(design.links)} links)\n")
    assert counts() == (0, 0)


BAD_FILES: dict[str, tuple[str, Any, list[str]]] = {
    "bad address": (
        "lab.json",
        json.dumps(
            changed(design_data(), {"links[0].endpoints[0].addresses[0]": "192.168.15.300/24"})
        ),
        ["links[0].endpoints[0].addresses[0]: '192.168.15.300/24': 300 is not a valid byte"],
    ),
    "two problems": (
        "lab.yaml",
        yaml.safe_dump(
            changed(
                design_data(),
                {"name": "Bad Name", "links[0].endpoints[1].node": "green"},
            )
        ),
        ["name: design name 'Bad Name'", "links[0].endpoints[1].node"],
    ),
    "not YAML": ("lab.yaml", "nodes: [unclosed", ["not valid YAML"]),
    "not JSON": ("lab.json", "{", ["not valid JSON"]),
    "not UTF-8": ("lab.yaml", b"name: \xff\xfe lab\n", ["not UTF-8"]),
    "empty": ("lab.yaml", "", ["mapping"]),
}


@pytest.mark.parametrize(("name", "content", "shown"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_validate_a_bad_file_lists_problems(tmp_path, name, content, shown):
    """A bad file raises CommandError whose text names the file and lists every problem."""
    path = write(tmp_path, name, content)
    with pytest.raises(CommandError) as raised:
        netlab("validate", path)
    text = str(raised.value)
    assert text.startswith(f"{path} is not a valid design:")
    for expected in shown:
        assert expected in text
    assert len(text.splitlines()) == 1 + len(shown)


def test_validate_a_missing_file(tmp_path):
    """A file that does not exist is one error line, not a traceback."""
    path = tmp_path / "nothing.yaml"
    with pytest.raises(CommandError, match=f"cannot read {path}: No such file or directory"):
        netlab("validate", str(path))


def test_validate_a_directory(tmp_path):
    """A path that is not a file cannot be read either."""
    with pytest.raises(CommandError, match="cannot read"):
        netlab("validate", str(tmp_path))


def test_bad_file_exits_non_zero_through_manage_py(tmp_path, capsys):
    """Through the command line a bad file exits with status 1 and a message on stderr."""
    from django.core.management import ManagementUtility

    path = write(tmp_path, "lab.json", "{")
    with pytest.raises(SystemExit) as raised:
        ManagementUtility(["manage.py", "netlab", "validate", path]).execute()
    assert raised.value.code == 1
    captured = capsys.readouterr()
    assert "not valid JSON" in captured.err
    assert "Traceback" not in captured.err


# start-up

START_UP = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")
import django
django.setup()
from editor.management.commands.netlab import Command
Command().create_parser("manage.py", "netlab").parse_args(["list"])
heavy = ("pydantic", "netlab.core.document", "editor.deployments", "editor.services", "daphne")
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] in heavy
    or name in heavy)))
"""


def test_start_up_loads_neither_the_document_model_nor_the_services():
    """Setting Django up and parsing a command's arguments (all of ``netlab list`` but its
    one query) loads neither pydantic, the document model, the services nor the server."""
    root = Path(__file__).resolve().parents[2]
    found = subprocess.run(
        [sys.executable, "-c", START_UP], cwd=root, capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == []


def test_a_reader_that_leaves_stops_the_output_not_the_command(tmp_path):
    """`netlab validate FILE | (exit)`: the closed pipe drops the output, without a
    traceback, and the command ends as it would have."""
    root = Path(__file__).resolve().parents[2]
    path = write(tmp_path, "lab.yaml", tutorial_path(2).read_text())
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", "netlab", "validate", path],
            cwd=root,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.django_db(transaction=True)
def test_a_database_older_than_the_code_is_told_with_the_command_that_mends_it(make_design):
    """A query failing on a database that lacks this code's migrations says so and names
    `manage.py migrate`, instead of a traceback."""
    make_design("lab")
    call_command("migrate", "editor", "0008", verbosity=0)
    try:
        with pytest.raises(CommandError, match=r"older than this netlab .* manage\.py migrate"):
            netlab("deploy", "lab")
    finally:
        call_command("migrate", verbosity=0)


def test_the_command_line_names_the_exporters_default_image():
    assert command_line.CONTAINERLAB_IMAGE == containerlab.DEFAULT_IMAGE


# list, token, ensure-admin


def test_list_prints_every_design(make_design, stranger):
    """list prints id, owner, name, node and link counts and title, one design a line."""
    first = make_design("lab", title="My lab")
    second = make_design("other", owner=stranger, links=[])
    out, _ = netlab("list")
    assert out.splitlines() == [
        f"{first.pk}\tolivia\tlab\t3\t1\tMy lab",
        f"{second.pk}\tmallory\tother\t3\t0\t",
    ]


def test_list_of_nothing_prints_nothing():
    """Without designs, list prints nothing."""
    assert netlab("list") == ("", "")


def test_token_prints_a_working_token(owner, make_design):
    """token prints a new key that authenticates API requests as that user."""
    make_design("lab")
    out, _ = netlab("token", "olivia", "--name", "ci")
    key = out.strip()

    assert out == key + "\n"
    assert ApiToken.objects.get().name == "ci"
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/designs")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["lab"]


def test_token_for_an_unknown_user_fails():
    """token refuses a user name that does not exist."""
    with pytest.raises(CommandError, match="no user 'nobody'"):
        netlab("token", "nobody")
    assert ApiToken.objects.count() == 0


def test_ensure_admin_creates_the_account_once():
    """ensure-admin prints a password that logs in; a second run prints nothing."""
    out, _ = netlab("ensure-admin")
    password = next(
        line.split(":", 1)[1].strip() for line in out.splitlines() if "password:" in line
    )
    assert "user:     admin" in out
    assert Client().login(username="admin", password=password)

    assert netlab("ensure-admin") == ("", "")
    assert get_user_model().objects.count() == 1


def test_unknown_subcommand_is_refused():
    """A subcommand that does not exist is an error."""
    with pytest.raises(CommandError):
        netlab("frobnicate")
