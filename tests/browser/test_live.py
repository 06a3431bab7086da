"""The live lab from the design page, in a real Chromium against a real ``netlab serve``
(daphne and the worker in one process): deploy, the step log, live tables, ping, ping-all,
probe, reconnect, destroy; and the sharing flow from the page (share by link, fork, run).

Tests that deploy need root and carry the ``kernel`` mark; the ``kernel_labs`` fixture
checks that no namespace with the server's prefix is left, pass or fail. Packets only
travel between the namespaces these tests deployed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import SCREENSHOTS, namespaces_with
from editor_page import READY, EditorPage, create_design, wait_until
from playwright.sync_api import Page, WebSocketRoute, expect

pytestmark = pytest.mark.browser

LAB_TIMEOUT = 60_000  # a deploy on a loaded CI machine: generous, never a measurement


def copy_example(page: Page, slug: str = "2-bridge") -> EditorPage:
    """Copy an example to the user's designs with the dashboard's button; open it."""
    page.goto("/")
    page.locator(f"form[action='/examples/{slug}/copy'] button").click()
    page.wait_for_selector(READY)
    editor = EditorPage(page)
    editor.settle()
    return editor


def connected(page: Page) -> None:
    expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "open")


def state(page: Page) -> Any:
    return page.get_by_test_id("deployment-state")


def open_live_tab(page: Page) -> None:
    page.locator("[role=tab][data-tab=live]").click()


def open_console(page: Page, node: str) -> None:
    """Open ``node``'s console tab (its terminal takes the keyboard)."""
    page.get_by_test_id("console-node").select_option(node)
    page.get_by_test_id("console-open").click()
    expect(page.locator(f"[data-testid=console-terminal][data-node={node}]")).to_be_visible()


def console_rows(page: Page, node: str) -> Any:
    """The rows ``node``'s terminal shows (xterm.js's DOM renderer)."""
    return page.locator(f"[data-testid=console-terminal][data-node={node}] .xterm-rows")


def mac_of(netns: str, interface: str) -> str:
    from netlab.kernel import observe

    (link,) = [link for link in observe.links(netns) if link.name == interface]
    assert link.mac is not None
    return link.mac


def namespaces_of(page: Page) -> dict[str, str]:
    return page.evaluate("window.netlabEditor.live.live.deployment.namespaces")


def deploy(page: Page) -> None:
    page.get_by_test_id("deploy").click()
    expect(state(page)).to_have_text("running", timeout=LAB_TIMEOUT)


def destroy(page: Page, prefix: str) -> None:
    page.get_by_test_id("destroy").click()
    expect(state(page)).to_have_text("stopped", timeout=LAB_TIMEOUT)
    assert namespaces_with(prefix) == []


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


class HeldSocket:
    """Sits between the page and the server's websocket: forwards every message both ways,
    except ``deployment`` events saying ``running`` while ``hold`` is set (so the page can
    be seen mid-deploy whatever the machine's speed), and can drop the connection."""

    def __init__(self, page: Page) -> None:
        self.hold = True
        self.held: list[str | bytes] = []
        self.refuse = False
        self.routes: list[WebSocketRoute] = []
        self.servers: list[WebSocketRoute] = []
        page.route_web_socket(re.compile(r"/ws/designs/\d+/$"), self.route)

    def route(self, page_side: WebSocketRoute) -> None:
        if self.refuse:  # the server is "down": every attempt fails at once
            page_side.close(code=4000, reason="test: server down")
            return
        server_side = page_side.connect_to_server()
        self.routes.append(page_side)
        self.servers.append(server_side)

        def from_server(message: str | bytes) -> None:
            event = json.loads(message)
            if self.hold and event["type"] == "deployment" and event["state"] == "running":
                self.held.append(message)
            else:
                page_side.send(message)

        server_side.on_message(from_server)
        page_side.on_message(server_side.send)

    def release(self) -> None:
        self.hold = False
        for message in self.held:
            self.routes[-1].send(message)
        self.held.clear()

    def drop(self) -> None:
        """Close the page's connection as a lost server would; refuse new ones until
        ``self.refuse`` is reset, so the page is seen disconnected whatever its timing."""
        self.refuse = True
        self.servers[-1].close()
        self.routes[-1].close(code=4000, reason="test: connection lost")


@pytest.mark.kernel
def test_deploy_ping_neighbours_and_destroy_the_bridge_tutorial(page, kernel_labs):
    """From the page: deploy the tutorial's bridge example, follow its steps, ping red to blue
    reply by reply, see blue's MAC in red's neighbour table, ping all, probe, survive a lost
    connection, destroy, and the kernel holds nothing of the lab."""
    socket = HeldSocket(page)
    editor = copy_example(page)
    connected(page)
    expect(state(page)).to_have_text("not deployed")
    expect(page.get_by_test_id("destroy")).to_be_disabled()

    page.get_by_test_id("deploy").click()
    # Every step done, the "running" event held back: the page as it is mid-deploy.
    wait_until(
        page, "document.querySelector('[data-testid=progress]').value === 100", timeout=LAB_TIMEOUT
    )
    expect(state(page)).to_have_text("deploying")
    steps = page.get_by_test_id("steps")
    expect(steps).to_contain_text("connect red to v-net-0")
    expect(steps).to_contain_text("ip netns add")
    expect(steps.locator("li.step[data-outcome=failed]")).to_have_count(0)
    assert page.evaluate("window.netlabEditor.canvas.cy.$id('n:red').data('live')") == "deploying"
    shoot(page, "live-01-deploying")
    socket.release()
    expect(state(page)).to_have_text("running", timeout=LAB_TIMEOUT)
    expect(page.get_by_test_id("destroy")).to_be_enabled()
    expect(page.get_by_test_id("deploy")).to_be_disabled()
    assert page.evaluate("window.netlabEditor.canvas.cy.$id('n:red').data('live')") == "running"

    namespaces = namespaces_of(page)
    blue_mac = mac_of(namespaces["blue"], "veth-blue")
    red_mac = mac_of(namespaces["red"], "veth-red")

    page.get_by_test_id("live-node").select_option("red")
    # red's table as it was before any traffic: what the ping adds to it is new.
    wait_until(page, "window.netlabEditor.live.live.tables.neighbours.has('red')")
    page.get_by_test_id("ping-source").select_option("red")
    page.get_by_test_id("ping-target").fill("blue")
    page.get_by_test_id("ping-count").fill("3")
    page.get_by_test_id("ping-run").click()
    replies = page.get_by_test_id("ping-reply")
    expect(replies).to_have_count(3, timeout=LAB_TIMEOUT)
    expect(replies.first).to_contain_text("reply from 192.168.15.2")
    expect(page.get_by_test_id("ping-summary")).to_contain_text("3 received, 0% loss")
    neighbours = page.get_by_test_id("neighbours")
    expect(neighbours).to_contain_text(blue_mac, timeout=LAB_TIMEOUT)
    expect(neighbours.locator("tr.fresh")).to_contain_text(blue_mac)
    page.get_by_test_id("ping-summary").scroll_into_view_if_needed()
    shoot(page, "live-02-ping-and-neighbours")

    # The host's namespace has its own table: a ping from it fills it with red's MAC.
    page.get_by_test_id("ping-source").select_option("host")
    page.get_by_test_id("ping-target").fill("192.168.15.1")
    page.get_by_test_id("ping-count").fill("1")
    page.get_by_test_id("ping-run").click()
    expect(page.get_by_test_id("ping-summary")).to_contain_text("1 received", timeout=LAB_TIMEOUT)
    page.get_by_test_id("live-node").select_option("host")
    expect(neighbours).to_contain_text(red_mac, timeout=LAB_TIMEOUT)
    page.get_by_test_id("live-node").select_option("red")

    page.get_by_test_id("pingall-run").click()
    expect(page.get_by_test_id("pingall-summary")).to_contain_text("reachable", timeout=LAB_TIMEOUT)
    cells = page.get_by_test_id("pingall-cell")
    assert cells.count() > 0
    expect(page.locator("[data-testid=pingall-matrix] td.bad")).to_have_count(0)
    assert page.evaluate("window.netlabEditor.canvas.cy.$id('n:red').hasClass('reach-reachable')")
    page.get_by_test_id("pingall-summary").scroll_into_view_if_needed()
    shoot(page, "live-03-pingall-matrix")

    page.get_by_test_id("probe-source").select_option("red")
    page.get_by_test_id("probe-target").fill("192.168.15.2:7")
    page.get_by_test_id("probe-run").click()
    expect(page.get_by_test_id("probe-result")).to_contain_text(
        "could not connect to 192.168.15.2:7", timeout=LAB_TIMEOUT
    )

    # A lost connection shows, comes back by itself, and the picture is rebuilt.
    step_count = steps.locator("li.step").count()
    socket.drop()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "lost")
    expect(page.get_by_test_id("connection")).to_contain_text("reconnecting in")
    socket.refuse = False
    connected(page)
    expect(state(page)).to_have_text("running")
    expect(steps.locator("li.step")).to_have_count(step_count)
    expect(neighbours).to_contain_text(blue_mac, timeout=LAB_TIMEOUT)

    destroy(page, kernel_labs)
    expect(page.get_by_test_id("deploy")).to_be_enabled()
    assert editor.document()["name"].startswith("tutorial-2-bridge")


def test_deploy_asks_to_save_unsaved_changes_first(page):
    """Deploy runs the saved revision: with unsaved changes it asks to save, and sends nothing."""
    editor = copy_example(page)
    connected(page)
    page.get_by_test_id("layout").click()
    expect(editor.by_testid("dirty")).to_be_visible()
    page.get_by_test_id("deploy").click()
    notice = page.get_by_test_id("deploy-notice")
    expect(notice).to_contain_text("unsaved changes")
    expect(page.get_by_test_id("save-and-deploy")).to_be_visible()
    page.get_by_test_id("cancel-deploy").click()
    expect(notice).to_be_hidden()
    expect(state(page)).to_have_text("not deployed")


def test_a_viewer_reads_but_cannot_edit_or_deploy(page, second_user, server):
    """A collaborator with the view role gets the editor read-only: no save, no palette, no
    deploy, no sharing settings; Fork and History are there."""
    copy_example(page)
    design_id = int(page.locator("#editor").get_attribute("data-design-id") or 0)
    page.get_by_test_id("sharing-link").click()
    page.fill("input[name=username]", "reader")
    page.select_option("select[name=role]", "view")
    page.get_by_role("button", name="Add or change").click()
    expect(page.get_by_test_id("collaborators")).to_contain_text("reader")

    reader = second_user().new_page()
    reader.goto(f"/designs/{design_id}/")
    reader.wait_for_selector(READY)
    expect(reader.get_by_test_id("read-only")).to_be_visible()
    expect(reader.get_by_test_id("save")).to_be_disabled()
    expect(reader.locator(".palette")).to_be_hidden()
    expect(reader.get_by_test_id("sharing-link")).to_have_count(0)
    expect(reader.get_by_test_id("history-link")).to_be_visible()
    expect(reader.get_by_test_id("fork")).to_be_visible()
    expect(reader.get_by_test_id("connection")).to_have_attribute("data-status", "open")
    expect(reader.get_by_test_id("deploy")).to_be_disabled()
    expect(reader.get_by_test_id("properties").locator("input").first).to_be_disabled()
    reader.keyboard.press("Control+s")
    expect(reader.get_by_test_id("status")).to_contain_text("Read-only")


@pytest.mark.kernel
def test_share_by_link_fork_and_run_the_fork(page, second_user, kernel_labs):
    """User A shares a design by link; user B opens the link, forks it, deploys the fork, sees
    it running and destroys it. A's history shows the diff of two revisions."""
    editor = copy_example(page)
    name = editor.document()["name"]
    design_id = page.locator("#editor").get_attribute("data-design-id")
    page.get_by_test_id("layout").click()
    editor.save()
    page.get_by_test_id("history-link").click()
    expect(page.get_by_test_id("diff")).to_be_visible()
    shoot(page, "live-05-history-diff")
    page.go_back()
    page.wait_for_selector(READY)

    page.get_by_test_id("sharing-link").click()
    page.locator("input[name=visibility][value=link]").check()
    page.get_by_role("button", name="Save visibility").click()
    # A design shared by link gets its link with the new visibility.
    link = page.get_by_test_id("share-link").input_value()
    assert "/shared/" in link
    shoot(page, "live-04-sharing")

    reader = second_user().new_page()
    reader.goto(link)
    reader.get_by_test_id("fork").click()
    reader.wait_for_selector(READY)
    expect(reader.get_by_test_id("forked-from")).to_have_text(f"forked from editor/{name}")
    expect(reader.get_by_test_id("sharing-link")).to_be_visible()  # the fork is B's own
    connected(reader)
    expect(state(reader)).to_have_text("not deployed")
    deploy(reader)
    assert reader.evaluate("Object.keys(window.netlabEditor.live.live.deployment.namespaces)")
    destroy(reader, kernel_labs)

    page.goto(f"/designs/{design_id}/")
    page.wait_for_selector(READY)
    expect(page.get_by_test_id("fork-count")).to_have_text("1 fork")


@pytest.mark.kernel
def test_a_big_lab_from_the_page_shows_its_latest_steps_and_says_which_node_it_shows(
    page, kernel_labs
):
    """A star of 80 namespaces is over 320 steps: the log draws the latest 300 after a line
    counting the others, and the progress covers all of them. The page tells the server
    which node's tables it shows (`show`), first as it connects, then on each selection."""
    from netlab.bench import star_data

    sent: list[dict[str, Any]] = []

    def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()
        server_side.on_message(page_side.send)

        def from_page(message: str | bytes) -> None:
            sent.append(json.loads(message))
            server_side.send(message)

        page_side.on_message(from_page)

    page.route_web_socket(re.compile(r"/ws/designs/\d+/$"), route)
    design_id = create_design(page, star_data(80, network="10.80.0.0/16", name="star-80"))
    page.goto(f"/designs/{design_id}/")
    page.wait_for_selector(READY)
    connected(page)
    open_live_tab(page)
    deploy(page)
    steps = page.get_by_test_id("steps")
    total = page.evaluate("window.netlabEditor.live.live.progress().total")
    assert total > 320  # four a namespace, and the host's
    expect(page.get_by_test_id("earlier-steps")).to_contain_text(f"{total - 300} earlier steps")
    expect(steps.locator("li.step")).to_have_count(300)
    assert page.get_by_test_id("progress").get_attribute("value") == "100"

    page.get_by_test_id("live-node").select_option("n7")
    for _ in range(100):  # the routed socket's messages arrive while Playwright waits
        shown = [message["node"] for message in sent if message["action"] == "show"]
        if shown[-1:] == ["n7"]:
            break
        page.wait_for_timeout(50)
    assert shown[0] == "n0"  # as the page connected: the first namespace node
    assert shown[-1] == "n7"
    destroy(page, kernel_labs)


def test_a_running_lab_takes_a_saved_change_in_place(page, kernel_labs):
    """Deploy the bridge tutorial, give red a new route and save: Apply changes offers the
    plan (its one step and command, red marked on the canvas), runs it, and red's live
    route table shows the route, with the same namespaces and no redeploy."""
    editor = copy_example(page)
    connected(page)
    open_live_tab(page)
    deploy(page)
    before = namespaces_of(page)
    expect(page.get_by_test_id("apply")).to_be_hidden()

    changed = editor.document()
    red = next(node for node in changed["nodes"] if node["id"] == "red")
    red["routes"] = [{"to": "10.9.0.0/16", "via": "192.168.15.2"}]
    page.get_by_role("tab", name="Document").click()
    editor.by_testid("document-form").locator("textarea").fill(json.dumps(changed))
    editor.by_testid("apply-document").click()
    editor.save()
    apply = page.get_by_test_id("apply")
    expect(apply).to_be_visible()
    expect(apply).to_be_enabled()

    apply.click()
    preview = page.get_by_test_id("apply-preview")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("route 10.9.0.0/16 via 192.168.15.2 in red")
    expect(preview).to_contain_text(
        f"ip -n {before['red']} route add 10.9.0.0/16 via 192.168.15.2 dev veth-red"
    )
    assert page.evaluate("window.netlabEditor.canvas.cy.$id('n:red').hasClass('pending-change')")
    assert not page.evaluate(
        "window.netlabEditor.canvas.cy.$id('n:blue').hasClass('pending-change')"
    )
    shoot(page, "live-04-apply-preview")

    page.get_by_test_id("apply-confirm").click()
    wait_until(
        page,
        "window.netlabEditor.live.live.deployment.revision === 2"
        " && window.netlabEditor.live.live.deployment.state === 'running'",
        timeout=LAB_TIMEOUT,
    )
    expect(apply).to_be_hidden()
    expect(page.get_by_test_id("steps")).to_contain_text("route 10.9.0.0/16 via 192.168.15.2")
    page.get_by_test_id("live-node").select_option("red")
    expect(page.get_by_test_id("routes").first).to_contain_text("10.9.0.0/16", timeout=LAB_TIMEOUT)
    assert namespaces_of(page) == before
    destroy(page, kernel_labs)


def test_the_tutorial_as_a_lesson_on_one_running_lab(page, kernel_labs):
    """From the dashboard: the tutorial lesson deploys its first step, then each next step
    is saved and applied in place (red and blue keep their namespaces from step 1 to 4),
    the step log shows its commands, and the lesson ends done."""
    page.goto("/")
    page.get_by_test_id("start-lesson").click()
    page.wait_for_selector(READY)
    connected(page)
    lesson = page.get_by_test_id("lesson")
    expect(lesson).to_contain_text("4 steps")
    next_step = page.get_by_test_id("lesson-next")
    expect(next_step).to_have_text("Start: deploy step 1")

    next_step.click()
    expect(state(page)).to_have_text("running", timeout=LAB_TIMEOUT)
    expect(lesson).to_contain_text("step 1 of 4")
    first = namespaces_of(page)
    for number in (2, 3, 4):
        expect(next_step).to_be_enabled(timeout=LAB_TIMEOUT)
        next_step.click()
        expect(lesson).to_contain_text(f"step {number} of 4")
        wait_until(
            page,
            "window.netlabEditor.live.live.deployment.state === 'running'"
            " && window.netlabEditor.live.live.deployment.revision === "
            f"{4 + number}",
            timeout=LAB_TIMEOUT,
        )
        assert page.evaluate("window.netlabEditor.live.live.deployment.error") == ""
        now = namespaces_of(page)
        assert {node: now[node] for node in ("red", "blue")} == {
            node: first[node] for node in ("red", "blue")
        }
    expect(page.get_by_test_id("steps")).to_contain_text("Apply")
    expect(next_step).to_have_text("Lesson done")
    expect(next_step).to_be_disabled()
    assert "step=4" in page.url
    shoot(page, "live-05-lesson-done")
    destroy(page, kernel_labs)


@pytest.mark.kernel
def test_a_campus_ping_all_from_the_page_counts_can_be_cancelled_and_reads_full_width(
    page, kernel_labs
):
    """A 54-node campus whose routers forward nothing (most pairs time out): the ping-all
    says "n of N" as it runs and stops on Cancel, keeping what it measured; run again, the
    full-width matrix holds every source and filters to failures. Destroying the lab clears
    its results."""
    from netlab.campus import campus_data

    design_id = create_design(
        page, campus_data(4, 11, network="10.81.0.0/16", name="campus", forwarding=False)
    )
    page.goto(f"/designs/{design_id}/")
    page.wait_for_selector(READY)
    connected(page)
    open_live_tab(page)
    deploy(page)

    label = page.get_by_test_id("pingall-progress-label")
    page.get_by_test_id("pingall-run").click()
    expect(label).to_contain_text(re.compile(r"^[1-9]\d* of 2549 pairs"), timeout=LAB_TIMEOUT)
    page.get_by_test_id("pingall-cancel").click()
    summary = page.get_by_test_id("pingall-summary")
    expect(summary).to_contain_text("cancelled after", timeout=LAB_TIMEOUT)
    expect(page.get_by_test_id("pingall-cancel")).to_be_hidden()
    summary.scroll_into_view_if_needed()
    shoot(page, "live-04-pingall-cancelled")

    page.get_by_test_id("pingall-run").click()
    page.get_by_test_id("pingall-open-matrix").click()
    dialog = page.get_by_test_id("pingall-dialog")
    expect(dialog).to_be_visible()
    expect(summary).to_contain_text(re.compile(r"of 2549 reachable$"), timeout=LAB_TIMEOUT)
    expect(dialog.get_by_test_id("pingall-dialog-progress")).to_have_text(
        re.compile(r"^2549 of 2549 pairs, \d+ unreachable$")
    )
    grid = dialog.get_by_test_id("pingall-grid")
    expect(grid).to_have_attribute("data-rows", "49")  # the host, 4 routers, 44 hosts
    expect(grid).to_have_attribute("data-measured", "2549")
    dialog.get_by_test_id("pingall-failures-only").check()
    failed = int(grid.get_attribute("data-failed") or 0)
    assert 0 < failed < 2549
    dialog.get_by_test_id("pingall-sort").select_option("failures")
    view = page.evaluate("window.netlabEditor.live.matrix.view.sources.length")
    assert view == int(grid.get_attribute("data-rows") or 0) > 0
    shoot(page, "live-05-pingall-matrix-failures")
    dialog.get_by_test_id("pingall-close").click()
    expect(dialog).to_be_hidden()

    destroy(page, kernel_labs)
    expect(summary).to_be_empty()
    expect(page.get_by_test_id("pingall-progress-wrap")).to_be_hidden()


def test_explain_a_failed_ping_and_apply_its_fix(page, kernel_labs):
    """The seed's lesson from the page: without the host's masquerade, blue's ping to the
    LAN machine fails; Explain says the reply has no way back (lan marked red on the canvas)
    and offers the masquerade; one click saves and applies it, and the ping answers."""
    from factories import tutorial_data

    data = tutorial_data(3)
    data["nodes"][0]["nat"] = []
    editor = EditorPage(page).open(create_design(page, data))
    connected(page)
    open_live_tab(page)
    # Before deploying: the predicted ping-all, in the matrix dialog.
    page.get_by_test_id("pingall-predict").click()
    grid = page.get_by_test_id("pingall-grid")
    expect(page.get_by_test_id("pingall-dialog-note")).to_contain_text(
        "Predicted from saved revision 1"
    )
    predicted_failures = int(grid.get_attribute("data-failed") or 0)
    assert predicted_failures > 0
    page.get_by_test_id("pingall-close").click()
    deploy(page)
    page.get_by_test_id("pingall-run").click()
    expect(page.get_by_test_id("pingall-summary")).to_contain_text(
        "as predicted", timeout=LAB_TIMEOUT
    )

    page.get_by_test_id("ping-source").select_option("blue")
    page.get_by_test_id("ping-target").fill("lan")
    page.get_by_test_id("ping-count").fill("1")
    page.get_by_test_id("ping-run").click()
    expect(page.get_by_test_id("ping-summary")).to_contain_text("0 received", timeout=LAB_TIMEOUT)
    page.get_by_test_id("ping-summary-explain").click()
    outcome = page.get_by_test_id("explain-outcome")
    expect(outcome).to_have_attribute("data-outcome", "no-return-route")
    expect(outcome).to_contain_text("lan has no route to 192.168.15.2")
    expect(page.get_by_test_id("explain-hop").first).to_contain_text("blue")
    stops = "window.netlabEditor.canvas.cy.$id('n:lan').hasClass('path-stops')"
    assert page.evaluate(stops)
    assert page.evaluate("window.netlabEditor.canvas.cy.$id('n:host').hasClass('on-path')")
    shoot(page, "live-06-explain")

    fix = page.get_by_test_id("explain-fix").filter(has_text="masquerade 192.168.15.0/24")
    fix.click()
    wait_until(
        page,
        "window.netlabEditor.live.live.deployment.revision === 2"
        " && window.netlabEditor.live.live.deployment.state === 'running'",
        timeout=LAB_TIMEOUT,
    )
    assert editor.document()["nodes"][0]["nat"] == [{"source": "192.168.15.0/24", "out": "eth0"}]
    page.get_by_test_id("ping-run").click()
    expect(page.get_by_test_id("ping-summary")).to_contain_text("1 received", timeout=LAB_TIMEOUT)
    page.get_by_test_id("explain-run").click()
    expect(outcome).to_have_attribute("data-outcome", "delivered")
    assert not page.evaluate(stops)
    destroy(page, kernel_labs)


def cell_point(page: Page, source: str, address: str) -> tuple[float, float]:
    """Where the matrix dialog draws the cell of ``source`` -> ``address``, on the screen."""
    point = page.evaluate(
        """([source, address]) => {
          const matrix = window.netlabEditor.live.matrix;
          const box = matrix.canvas.getBoundingClientRect();
          for (let y = 0; y < box.height; y += 4) for (let x = 0; x < box.width; x += 4) {
            const cell = matrix.cellAt(x, y);
            const found = cell && cell.source === source && cell.address === address;
            if (found) return [box.left + x + 2, box.top + y + 2];
          }
          return null;
        }""",
        [source, address],
    )
    assert point is not None, f"no cell {source} -> {address} in the matrix"
    return float(point[0]), float(point[1])


def test_a_red_ping_all_cell_explained_and_fixed_turns_green(page, kernel_labs):
    """Ping all without the host's masquerade: blue -> lan is red; clicking it explains it
    (no way back) and its fix, in one click, makes the next ping-all's cell green. A node's
    menu on the canvas starts an explanation from that node."""
    from factories import tutorial_data

    data = tutorial_data(3)
    data["nodes"][0]["nat"] = []
    editor = EditorPage(page).open(create_design(page, data))
    connected(page)
    open_live_tab(page)

    x, y = editor.screen_position("n:red")
    page.mouse.click(x, y, button="right")
    page.get_by_test_id("node-menu-explain").click()
    expect(page.get_by_test_id("explain-source")).to_have_value("red")

    deploy(page)
    cell = "window.netlabEditor.live.live.pingall?.cells.get('blue|192.168.1.3')"
    page.get_by_test_id("pingall-run").click()
    wait_until(page, "window.netlabEditor.live.live.pingall?.done", timeout=LAB_TIMEOUT)
    assert page.evaluate(f"{cell}.reachable") is False
    page.get_by_test_id("pingall-open-matrix").click()
    page.mouse.click(*cell_point(page, "blue", "192.168.1.3"))
    outcome = page.get_by_test_id("explain-outcome")
    expect(outcome).to_have_attribute("data-outcome", "no-return-route")
    page.get_by_test_id("explain-fix").filter(has_text="masquerade 192.168.15.0/24").click()
    wait_until(
        page,
        "window.netlabEditor.live.live.deployment.revision === 2"
        " && window.netlabEditor.live.live.deployment.state === 'running'",
        timeout=LAB_TIMEOUT,
    )
    page.get_by_test_id("pingall-run").click()
    wait_until(page, f"window.netlabEditor.live.live.pingall?.done && {cell}", timeout=LAB_TIMEOUT)
    assert page.evaluate(f"{cell}.reachable") is True
    destroy(page, kernel_labs)


def test_capture_from_the_page_shows_the_lines_and_saves_a_pcap(page, kernel_labs, tmp_path):
    """Capture on blue's interface while red pings blue: the lines in tcpdump's words, a
    packet's layers on a click, dots over the canvas, and a pcap that reads back."""
    import dpkt

    copy_example(page)
    connected(page)
    open_live_tab(page)
    deploy(page)
    page.get_by_test_id("capture-filter").fill("icmp or arp")
    page.get_by_test_id("capture-seconds").fill("20")
    # Clicking blue's link offers both of its ends.
    editor = EditorPage(page)
    editor.click("l:1")
    offers = page.get_by_test_id("capture-offer")
    expect(offers).to_have_count(2)
    offers.filter(has_text="blue's veth-blue").click()
    expect(page.get_by_test_id("capture-summary")).to_contain_text("Capturing on blue's veth-blue")
    page.get_by_test_id("ping-source").select_option("red")
    page.get_by_test_id("ping-target").fill("blue")
    page.get_by_test_id("ping-count").fill("2")
    page.get_by_test_id("ping-run").click()
    lines = page.get_by_test_id("capture-packet")
    expect(lines.filter(has_text="ICMP echo request")).to_have_count(2, timeout=LAB_TIMEOUT)
    expect(lines.filter(has_text="ICMP echo reply")).to_have_count(2, timeout=LAB_TIMEOUT)
    lines.filter(has_text="ICMP echo request").first.click()
    expect(page.get_by_test_id("capture-layers")).to_contain_text("ICMP")
    expect(page.get_by_test_id("capture-layers")).to_contain_text("source 192.168.15.1")
    expect(page.get_by_test_id("packet-dots")).to_be_attached()
    shoot(page, "live-07-capture")
    page.get_by_test_id("capture-stop").click()
    expect(page.get_by_test_id("capture-summary")).to_contain_text(
        "packets seen", timeout=LAB_TIMEOUT
    )
    with page.expect_download() as download:
        page.get_by_test_id("capture-download").click()
    path = tmp_path / "capture.pcap"
    download.value.save_as(path)
    with path.open("rb") as file:
        frames = [bytes(data) for _, data in dpkt.pcap.Reader(file)]
    assert len(frames) == lines.count()
    icmp = [dpkt.ethernet.Ethernet(frame) for frame in frames]
    assert any(isinstance(frame.data, dpkt.ip.IP) for frame in icmp)
    destroy(page, kernel_labs)


def test_consoles_on_red_and_blue_run_ping_and_turn_a_route_into_the_design(
    page, kernel_labs, watched
):
    """Consoles on red and blue as tabs: blue pings red on and on; on red, ping blue by a
    completed name; back on blue its ping still runs, Ctrl+C stops it; back on red its
    output is kept; a typed route is saved as revision 2 and applied, and the canvas's
    document has it, unsaved edits none; a shell line is refused; closing a tab closes its
    terminal; nothing breaks the Content-Security-Policy."""
    editor = copy_example(page)
    connected(page)
    open_live_tab(page)
    deploy(page)
    open_console(page, "red")
    open_console(page, "blue")
    tabs = page.get_by_test_id("console-tab")
    expect(tabs).to_have_count(2)
    red, blue = console_rows(page, "red"), console_rows(page, "blue")
    expect(blue).to_contain_text("blue$")
    page.keyboard.type("ping -c 100 red")
    page.keyboard.press("Enter")
    expect(blue).to_contain_text("icmp_seq=1 ", timeout=LAB_TIMEOUT)
    tabs.filter(has_text="red").get_by_role("tab").click()
    expect(blue).to_be_hidden()
    page.keyboard.type("ping -c 1 bl")
    page.keyboard.press("Tab")
    expect(red).to_contain_text("red$ ping -c 1 blue")
    page.keyboard.press("Enter")
    expect(red).to_contain_text("1 received", timeout=LAB_TIMEOUT)
    tabs.filter(has_text="blue").get_by_role("tab").click()
    expect(red).to_be_hidden()
    expect(page.get_by_test_id("console-stop")).to_be_enabled()  # blue's ping still runs
    page.keyboard.press("Control+c")
    expect(blue).to_contain_text("^C (stopped)", timeout=LAB_TIMEOUT)
    expect(page.get_by_test_id("console-stop")).to_be_disabled()
    expect(blue).to_contain_text("icmp_seq=1 ")
    tabs.filter(has_text="red").get_by_role("tab").click()
    expect(red).to_contain_text("1 received")
    page.keyboard.press("ArrowUp")  # red's own history: its line back, given up with Ctrl+C
    expect(red).to_contain_text(re.compile(r"1 received.*red\$ ping -c 1 blue"))
    page.keyboard.press("Control+c")
    page.keyboard.type("ip route add 10.9.0.0/16 via 192.168.15.2")
    page.keyboard.press("Enter")
    expect(red).to_contain_text("saved as revision 2", timeout=LAB_TIMEOUT)
    wait_until(
        page,
        "window.netlabEditor.live.live.deployment.revision === 2"
        " && window.netlabEditor.live.live.deployment.state === 'running'",
        timeout=LAB_TIMEOUT,
    )
    wait_until(
        page, "window.netlabEditor.doc.nodes.find((n) => n.id === 'red').routes?.length === 1"
    )
    expect(page.get_by_test_id("dirty")).to_be_hidden()
    page.keyboard.type("ip a; id")
    page.keyboard.press("Enter")
    expect(red).to_contain_text("never a shell", timeout=LAB_TIMEOUT)
    shoot(page, "live-08-console")
    tabs.filter(has_text="blue").get_by_test_id("console-close").click()
    expect(tabs).to_have_count(1)
    assert editor.document()["nodes"][2]["routes"] == [{"to": "10.9.0.0/16", "via": "192.168.15.2"}]
    assert watched() == []
    destroy(page, kernel_labs)
