"""Benchmark of the pages every newcomer opens: the public gallery and the dashboard, with
many large public designs.

``.venv/bin/python tests/production/bench_pages.py [--designs 60] [--size 1000]
[--requests 20]`` (root, for the layout kit; touches no namespace). On a fresh layout
(``layoutkit``, ``manage.py netlab serve``), ``--designs`` public designs of a star of
``--size`` namespaces are saved through ``services`` (their pictures computed then, as on
every save), then a plain HTTP client times ``GET /gallery/`` (logged out) and ``GET /``
(the dashboard, logged in as their owner) from its side of the socket: medians and 90th
percentiles of ``--requests`` requests, after one warm-up each. Writes
artifacts/bench-pages.md and prints it. Not part of the test run.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from layoutkit import PYTHON, REPOSITORY, Layout, unique_prefix, write_report

from netlab.bench import star_data

CREATE = """
import json, sys
from editor import services
from editor.models import Design
from django.contrib.auth import get_user_model
owner = get_user_model().objects.get(username="admin")
data = json.load(open(sys.argv[1]))
for number in range(int(sys.argv[2])):
    design = services.create_design(owner=owner, data={**data, "name": f"star-{number}"})
    services.set_visibility(design, actor=owner, visibility="public")
print(Design.objects.filter(visibility="public").count())
"""


def create_designs(layout: Layout, size: int, count: int) -> int:
    document = layout.root / "star.json"
    document.write_text(json.dumps(star_data(size)))
    script = layout.root / "create.py"
    script.write_text(CREATE)
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", f"import sys; sys.argv = ['x', {str(document)!r}, "
         f"'{count}']; exec(open({str(script)!r}).read())"],
        cwd=REPOSITORY, env=layout.env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return int(result.stdout.strip().splitlines()[-1])


def admin_password(layout: Layout) -> str:
    printed = layout.manage("netlab", "ensure-admin")
    (line,) = [line for line in printed.splitlines() if "password:" in line]
    return line.split("password:")[1].strip()


def logged_in(base: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login/").read()
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": "admin", "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    # An http:// URL of the server this script started.
    request = urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": base})  # noqa: S310
    opener.open(request).read()
    if not any(cookie.name == "sessionid" for cookie in jar):
        raise RuntimeError("the login failed")
    return opener


def timed(opener: urllib.request.OpenerDirector, url: str, count: int) -> dict[str, float]:
    opener.open(url).read()  # warm-up
    times, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        with opener.open(url) as response:
            size = len(response.read())
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": times[int(0.9 * (len(times) - 1))] * 1000,
        "kib": size / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--designs", type=int, default=60)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--output", default="artifacts/bench-pages.md")
    arguments = parser.parse_args()
    with Layout(unique_prefix("nlg"), embedded=True, unprivileged_web=False) as layout:
        # Plain HTTP on this machine, as on a lab network (the README's two settings).
        layout.env.update(NETLAB_SSL_REDIRECT="0", NETLAB_SECURE_COOKIES="0")
        layout.start()
        password = admin_password(layout)
        started = time.perf_counter()
        public = create_designs(layout, arguments.size, arguments.designs)
        saving = (time.perf_counter() - started) / arguments.designs
        layout.start_serve()
        base = f"http://127.0.0.1:{layout.web_port}"
        gallery = timed(urllib.request.build_opener(), f"{base}/gallery/", arguments.requests)
        dashboard = timed(logged_in(base, password), f"{base}/", arguments.requests)
    lines = [
        "# netlab pages",
        "",
        f"{public} public designs, each a star of {arguments.size} namespaces "
        f"({arguments.size + 2} nodes), saved through services (about {saving:.2f} s each "
        "with its picture, measured as one process). A plain HTTP client on this machine, "
        f"{arguments.requests} requests after a warm-up:",
        "",
        "| page | median | 90th percentile | size |",
        "| --- | ---: | ---: | ---: |",
        f"| `GET /gallery/` (logged out) | {gallery['median_ms']:.1f} ms | "
        f"{gallery['p90_ms']:.1f} ms | {gallery['kib']:.0f} KiB |",
        f"| `GET /` (dashboard, their owner) | {dashboard['median_ms']:.1f} ms | "
        f"{dashboard['p90_ms']:.1f} ms | {dashboard['kib']:.0f} KiB |",
    ]
    write_report("\n".join(lines) + "\n", arguments.output)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netlab.settings")
    sys.exit(main())
