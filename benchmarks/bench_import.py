"""Import speed and memory: N generated opportunities into a fresh SQLite store.

Run by hand:  .venv/bin/python benchmarks/bench_import.py [N] [--keep]
Prints rows/s for a first import (all inserts) and a re-import (all unchanged),
and the peak RSS of the process, which must not grow with N beyond the id set
kept for duplicate detection (about 40 bytes an id). Targets on SQLite at 1M rows
(issue 13): a first import of 100k rows/s or more, a peak RSS of 300 MB or less.
The machine is often shared: compare CPU rows/s, and alternate old and new code.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.app_config import AppConfig  # noqa: E402
from kpi_engine.db import open_store  # noqa: E402
from kpi_engine.importer import import_path  # noqa: E402


def generate(path: Path, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["opportunity_id", "created_at", "status", "amount", "account_id", "owner_rep_id",
                    "stage", "closed_at", "lead_id", "product", "currency"])
        for i in range(n):
            day = 1 + rnd.randrange(28)
            month = 1 + rnd.randrange(12)
            status = rnd.choice(("open", "won", "lost"))
            created = f"2025-{month:02d}-{day:02d}T{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:00"
            closed = "" if status == "open" else f"2026-{month:02d}-{day:02d}"
            amount = f"{rnd.uniform(100, 50000):.2f}" if status != "lost" or rnd.random() < 0.5 else ""
            w.writerow([f"O{i:08d}", created, status, amount, f"A{rnd.randrange(5000)}", f"r{rnd.randrange(40)}",
                        rnd.choice(("discovery", "proposal", "negotiation")), closed, "", "Widget", ""])


def generate_people(folder: Path) -> None:
    """The reps and accounts the opportunities refer to, as a real export has them."""
    with (folder / "reps.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["rep_id", "name", "team"])
        w.writerows([f"r{i}", f"Rep {i}", f"team {i % 4}"] for i in range(40))
    with (folder / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "name", "segment"])
        w.writerows([f"A{i}", f"Account {i}", "smb"] for i in range(5000))


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / (1024 if sys.platform == "darwin" else 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=200_000)
    ap.add_argument("--batch-size", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        csv_path = folder / "opportunities.csv"
        generate(csv_path, args.n)
        generate_people(folder)
        size_mb = csv_path.stat().st_size / 1e6
        engine = open_store(f"sqlite:///{tmp}/bench.db")
        print(f"{args.n} opportunities, {size_mb:.1f} MB CSV; peak RSS before import {peak_rss_mb():.0f} MB")
        for label in ("first import", "re-import"):
            t0, c0 = time.perf_counter(), time.process_time()
            report = import_path(engine, folder, config=AppConfig(), batch_size=args.batch_size)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            c = report.tables["opportunities"]
            # rows per CPU second too: wall time is noisy on a shared machine
            print(f"{label}: {dt:.2f} s, {args.n / dt:,.0f} rows/s wall, {args.n / cpu:,.0f} rows/s CPU "
                  f"(inserted {c.inserted}, updated {c.updated}, unchanged {c.unchanged}); "
                  f"peak RSS {peak_rss_mb():.0f} MB")
        engine.dispose()


if __name__ == "__main__":
    main()
