"""Lessons through HTTP: the tutorial lesson made from the four examples, a design's
revisions as lesson steps on its page, and the links that lead there."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from factories import tutorial_data

from editor import lessons, services
from editor.models import Design
from netlab.core.validation import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def steps_on(html: str) -> list[dict[str, Any]]:
    found = re.search(
        r'<script id="lesson-steps" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, "the page embeds no lesson"
    return json.loads(found.group(1))


def test_the_tutorial_lesson_is_the_four_examples_as_revisions(client: Client, owner: Any) -> None:
    response = client.post("/lessons/tutorial")
    design = Design.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == f"/designs/{design.pk}/lesson/?steps=4"
    assert design.name == "tutorial-lesson"
    revisions = list(design.revisions.order_by("number"))
    assert [revision.message for revision in revisions] == [
        tutorial_data(number)["title"] for number in (1, 2, 3, 4)
    ]
    for number, revision in enumerate(revisions, start=1):
        expected = {**tutorial_data(number), "name": "tutorial-lesson"}
        assert load(revision.document) == load(expected)
    # A second lesson gets a name of its own.
    assert lessons.start_tutorial(owner).name == "tutorial-lesson-2"


def test_the_lesson_page_lists_the_first_revisions_as_steps(client: Client, owner: Any) -> None:
    design = lessons.start_tutorial(owner)
    html = client.get(f"/designs/{design.pk}/lesson/?steps=3").content.decode()
    steps = steps_on(html)
    assert [step["number"] for step in steps] == [1, 2, 3]
    assert steps[1]["title"] == tutorial_data(2)["title"]
    assert steps[1]["description"] == tutorial_data(2)["description"]
    assert 'data-testid="lesson-next"' in html
    # Out of range or not a number: clamped to the revisions there are.
    assert len(steps_on(client.get(f"/designs/{design.pk}/lesson/?steps=99").content.decode())) == 4
    assert len(steps_on(client.get(f"/designs/{design.pk}/lesson/?steps=x").content.decode())) == 4
    assert len(steps_on(client.get(f"/designs/{design.pk}/lesson/?steps=0").content.decode())) == 1


def test_the_lesson_page_is_no_wider_open_than_the_design(
    client: Client, stranger: Any, make_design: Any
) -> None:
    theirs = make_design("private", owner=stranger)
    assert client.get(f"/designs/{theirs.pk}/lesson/").status_code == 404


def test_a_lesson_step_text_is_escaped(client: Client, owner: Any, make_design: Any) -> None:
    design = make_design("hostile", title="</script><script>alert(1)</script>")
    services.save_revision(design, author=owner, data=design.document, message="<b>two</b>")
    html = client.get(f"/designs/{design.pk}/lesson/").content.decode()
    assert "<script>alert(1)" not in html
    assert [step["message"] for step in steps_on(html)] == ["created", "<b>two</b>"]


def test_the_dashboard_and_the_history_lead_to_lessons(client: Client, owner: Any) -> None:
    assert 'data-testid="start-lesson"' in client.get("/").content.decode()
    design = lessons.start_tutorial(owner)
    history = client.get(f"/designs/{design.pk}/history").content.decode()
    assert f'href="/designs/{design.pk}/lesson/?steps=4"' in history
