"""The README works as written on a fresh clone: every ```sh block runs as printed in a copy of the
repository (beside ../shared, with this checkout's .venv), and the public datasets land in stores of
their own, in USD, apart from the demo company's kpibot.db.

```text and ```toml blocks are pictures and config, not commands. The first block's `make test` is
this suite itself; its `make run` is started and stopped here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED

README = ROOT / "README.md"


def sh_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    if not (SHARED / "datasets").is_dir():
        pytest.skip(f"the public datasets are not at {SHARED / 'datasets'}")
    if not (ROOT / ".venv" / "bin" / "kpibot").exists():
        pytest.skip("no .venv in this checkout (make install)")
    base = tmp_path_factory.mktemp("fresh")
    repo = base / "kpibot"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (repo / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / f)
    (repo / ".venv").symlink_to(ROOT / ".venv")  # set up already: `make` finds its stamp and installs nothing
    (base / "shared").symlink_to(SHARED)
    return repo


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "KPIBOT_", "DATABASE_URL", "PORT", "HOST"))}
    return {**env, **extra}


def test_every_command_block_runs_as_printed(clone):
    blocks = sh_blocks()
    assert len(blocks) >= 2 and "make run" in blocks[0]
    for block in blocks[1:]:
        r = subprocess.run(["bash", "-e", "-c", block], cwd=clone, env=_env(), capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, f"README block failed:\n{block}\n--- stdout\n{r.stdout[-2000:]}\n--- stderr\n" \
                                  f"{r.stderr[-2000:]}"
        assert "Traceback" not in r.stderr


def test_the_public_datasets_go_into_their_own_stores_in_usd(clone):
    block = next(b for b in sh_blocks() if "make maven" in b)
    r = subprocess.run(["bash", "-e", "-c", block], cwd=clone, env=_env(), capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert (clone / "maven.db").exists() and (clone / "cdnow.db").exists()
    assert not (clone / "kpibot.db").exists()  # nothing went into the demo company's store
    assert "Win rate · 2017" in r.stdout and "63.2 %" in r.stdout
    answer = json.loads(r.stdout[r.stdout.index("{"):r.stdout.rindex("}") + 1])
    assert answer["kpi"] == "revenue" and answer["currency"] == "USD"
    assert "warning: store" not in r.stdout + r.stderr  # the same currency each time: no mismatch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_make_run(clone) -> tuple[subprocess.Popen, int, list[str]]:
    """`make run` up to its "open" line. A port found free can be taken by another program (a test
    run beside this one) before kpibot binds it; kpibot then says so in one line and exits, and the
    run is tried again on another port."""
    for _ in range(3):
        port = _free_port()
        proc = subprocess.Popen(["make", "run"], cwd=clone, env=_env(PORT=str(port)), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lines: list[str] = []
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "kpibot sandbox: open" in line:
                break
        if not any("already in use" in x for x in lines):
            return proc, port, lines
        proc.wait(timeout=60)
    return proc, port, lines


def test_make_run_starts_the_sandbox_on_a_fresh_clone_and_stops_cleanly(clone):
    proc, port, lines = _start_make_run(clone)
    try:
        assert any(f"http://127.0.0.1:{port}/" in x for x in lines), "".join(lines)
        os.killpg(proc.pid, signal.SIGTERM)  # make and kpibot, as a terminal's Ctrl-C would
        rest, _ = proc.communicate(timeout=60)
        assert "Traceback" not in rest
        assert (clone / "kpibot.db").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
