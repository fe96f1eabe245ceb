"""`kpibot ask` as a fresh process (run by hand; prints its figures). Not a test.

    .venv/bin/python benchmarks/bench_cli_start.py [--db PATH] [--runs 15] [--importtime]

Target (issue 13): `kpibot ask` as a fresh process ≤ 250 ms. Each run starts the console script
anew (`kpibot ask --json …` and the text answer), as a person or a cron job would, on a small demo
store (made once under /tmp when --db is not given; the answer itself is a few ms at any size with
the rollups, so the store's size does not matter here). Prints the median and p95 wall time and
the median CPU time (user + system) of the child: on a shared machine the CPU time moves less with
the load than the wall time.

The project's modules are byte-compiled first: with PYTHONDONTWRITEBYTECODE set (as in some
shells and containers) every start would compile them from source (~250 ms on this machine),
which an installed kpibot never does.

--importtime prints the ten most expensive imports of one `ask --json` (python -X importtime).
--instructions also counts each command's instructions once under valgrind's callgrind: the same
count whatever else the machine runs, where times on a shared machine move by a third between runs.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

QUESTIONS = [["revenue", "last", "quarter"], ["win", "rate", "by", "team", "this", "year"],
             ["ยอดขาย", "เดือนที่แล้ว"], ["pipeline", "velocity", "q3", "2026"]]


def kpibot_cmd() -> list[str]:
    script = Path(sys.executable).with_name("kpibot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kpibot"]


def ensure_store(db: Path, env: dict) -> None:
    if db.exists():
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(kpibot_cmd() + ["demo-data", "--scale", "small"], env=env, check=True,
                   capture_output=True)


def one(cmd: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=Path("/tmp/kpibot-bench-cli/small.db"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--importtime", action="store_true")
    ap.add_argument("--instructions", action="store_true")
    a = ap.parse_args()
    from bench_kpis import machine

    env = dict(os.environ, DATABASE_URL=f"sqlite:///{a.db.resolve()}")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for pkg in ("kpibot", "kpi_engine", "config", "bot", "schedules", "telemetry"):
        compileall.compile_dir(str(ROOT / pkg), quiet=1)
    ensure_store(a.db, env)
    base = [sys.executable, "-c", "pass"]
    rows = [("python -c pass (interpreter start)", base)]
    for q in QUESTIONS:
        rows.append((f"ask --json {' '.join(q)}", kpibot_cmd() + ["ask", "--json", *q]))
    rows.append((f"ask {' '.join(QUESTIONS[0])} (text)", kpibot_cmd() + ["ask", *QUESTIONS[0]]))
    for _, cmd in rows:  # warm the page cache and the byte code
        one(cmd, env)
    res: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in rows}
    for _ in range(a.runs):  # interleaved, so a burst of load hits every row alike
        for name, cmd in rows:
            res[name].append(one(cmd, env))
    print(f"# {machine()}; {a.runs} fresh processes each")
    print(f"{'command':48} {'wall median':>12} {'wall p95':>9} {'cpu median':>11}")
    for name, _ in rows:
        walls = [w for w, _ in res[name]]
        cpus = [c for _, c in res[name]]
        print(f"{name:48} {statistics.median(walls):10.0f}ms {p95(walls):7.0f}ms {statistics.median(cpus):9.0f}ms")
    if a.instructions:
        if shutil.which("valgrind") is None:
            raise SystemExit("--instructions needs valgrind (Debian's package valgrind)")
        print("instructions of one run (valgrind --tool=callgrind):")
        for name, cmd in rows:
            r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                               env=env, capture_output=True, text=True)
            m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
            print(f"  {name:48} {int(m.group(1)) / 1e6:9,.0f}M" if m else f"  {name:48} (no count: {r.returncode})")
    if a.importtime:
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "kpibot", "ask", "--json", *QUESTIONS[0]],
                           env=env, capture_output=True, text=True)
        top = []
        for line in r.stderr.splitlines()[1:]:
            _, cum, name = line.split("|")
            if not name.startswith("   "):  # top-level imports only (one leading space)
                top.append((int(cum), name.strip()))
        print("top-level imports of one ask --json (cumulative µs):")
        for cum, name in sorted(top, reverse=True)[:10]:
            print(f"  {cum / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
