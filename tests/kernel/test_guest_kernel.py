"""The ``guest_kernel`` tests, run in a guest booted with Debian's stock kernel.

This machine's kernel lacks netem and VLANs (802.1Q, bridge VLAN filtering); Debian's has
them as modules. virtme-ng boots that kernel
(``linux-image-amd64``) in qemu over this machine's own root file system (read-only, the
work tree writable), without KVM (a nested KVM guest hangs here; without it the guest boots
in about half a minute), and runs pytest on the marked tests inside. On a kernel that has
netem the marked tests ran directly and this one skips; it skips too where no guest can
boot (no kernel image, no qemu), with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from enginekit import requires_root

from netlab.kernel import features

pytestmark = [pytest.mark.kernel, requires_root]

REPOSITORY = Path(__file__).resolve().parents[2]
GUEST_UP = "netlab-guest-up"
TIMEOUT = 900  # seconds: a boot without KVM, then the tests


def debian_kernel() -> Path | None:
    """The newest Debian kernel image under /boot with its modules beside it."""
    found = [
        path
        for path in Path("/boot").glob("vmlinuz-*")
        if Path("/lib/modules", path.name.removeprefix("vmlinuz-")).is_dir()
    ]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None


def test_netem_tests_pass_in_a_guest_with_debian_s_kernel(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if all(features.supported().values()):
        pytest.skip("this kernel has netem and VLANs: the guest_kernel tests ran on it directly")
    kernel = debian_kernel()
    vng = Path(sys.executable).with_name("vng")
    if kernel is None:
        pytest.skip("no Debian kernel under /boot (make setup installs linux-image-amd64)")
    if shutil.which("qemu-system-x86_64") is None or not vng.exists():
        pytest.skip("no qemu-system-x86_64 or vng (make setup installs them)")
    inner = (
        f"echo {GUEST_UP}; {sys.executable} -m pytest -q -p no:cacheprovider -m guest_kernel "
        "tests/kernel/test_links_netem.py tests/kernel/test_vlans_guest.py"
    )
    command = [
        str(vng), "--disable-kvm", "--memory", "2G", "--cpus", "2",
        "-r", str(kernel), "--rwdir", str(REPOSITORY), "--cwd", str(REPOSITORY),
        "--", inner,
    ]  # fmt: skip
    began = time.monotonic()
    booted: float | None = None
    finished: float | None = None
    lines: list[str] = []
    with subprocess.Popen(
        command,
        cwd=REPOSITORY,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        # vng runs virtme-run from PATH: the one beside it in .venv.
        env={
            **os.environ,
            "PATH": f"{vng.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    ) as guest:
        assert guest.stdout is not None
        try:
            for line in guest.stdout:
                lines.append(line)
                if booted is None and GUEST_UP in line:
                    booted = time.monotonic() - began
                if re.search(r"\d+ (passed|failed)", line):
                    finished = time.monotonic() - began
                if time.monotonic() - began > TIMEOUT:
                    guest.kill()
        finally:
            code = guest.wait(timeout=60)
    total = time.monotonic() - began
    output = "".join(lines)
    if booted is None:
        pytest.skip(f"the guest did not boot (exit {code}): {output[-2000:]}")
    with capsys.disabled():
        ran = (finished or total) - booted
        print(f"\nguest with {kernel.name}: booted in {booted:.1f} s, pytest ran in {ran:.1f} s, "
              f"{total - booted - ran:.1f} s to power off")  # fmt: skip
        print("".join(line for line in lines if re.search(r"ping RTT|passed|failed", line)))
    assert code == 0, output[-4000:]
    assert re.search(r"\b5 passed\b", output), output[-4000:]
