"""/kpi end to end: a signed slash command in over HTTP -> the answer posted to the Slack emulator.

Run by hand:
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/kpi .venv/bin/python benchmarks/bench_slack.py
    .venv/bin/python benchmarks/bench_slack.py --demo small        # a throwaway SQLite store with the demo company

Starts the real service (uvicorn on a free loopback port, the same code `kpibot run` starts) wired to the
local Slack emulator, sends N signed `/kpi` requests one after another, and prints the ack time (HTTP
round trip of the slash command) and the answer time (from sending the command to the emulator receiving
the answer on the response_url), median and p95, overall and per question. Targets (issue 3): ack p95
<= 100 ms, answer p95 <= 500 ms at 1M opportunities.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.deps import SPARK_PERIODS  # noqa: E402
from bot.service import start_bot  # noqa: E402
from config.settings import Settings  # noqa: E402
from kpi_engine import periods  # noqa: E402
from kpi_engine.config_check import get_config  # noqa: E402
from kpi_engine.db import open_store  # noqa: E402
from kpi_engine.engine import KpiEngine  # noqa: E402
from slack_emulator import SlackEmulator, post_to_app  # noqa: E402

TOKEN = "xoxb-bench-token"
SECRET = "bench-signing-secret"
USER = "UBENCH"
CHANNEL = "C0SALES"

QUESTIONS = [
    "revenue",
    "win rate by team last quarter",
    "revenue by rep this month",
    "รายได้ เดือนนี้",
    "deals closed this quarter",
    "avg deal size by region last month",
    "lead volume by channel last month",
    "retention",
    "wn rate",  # did you mean
    "help",
]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def fmt_ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {pct(values, 95) * 1000:7.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--demo", help="fill a temporary SQLite store with the demo company at this scale "
                                   "(small, medium, large or a number of opportunities)")
    ap.add_argument("--as-of", help="ISO date standing for now (default: the real now)")
    ap.add_argument("--trend-periods", type=int, default=SPARK_PERIODS,
                    help=f"sparkline length (default {SPARK_PERIODS}; 0: answers without a trend)")
    args = ap.parse_args()

    config = get_config()
    url = args.database_url
    if args.demo:
        from kpi_engine.demo import generate

        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-slack-')}/kpibot.db"
        print(f"generating the demo company ({args.demo}) into {url} ...", flush=True)
        generate(open_store(url), scale=args.demo, anchor=date.today(), tz=config.timezone)
    if not url:
        ap.error("give --database-url (or DATABASE_URL) or --demo SCALE")
    store = open_store(url)
    engine = KpiEngine(store, config)
    with store.connect() as conn:
        n_opps = conn.execute(text("SELECT COUNT(*) FROM opportunities")).scalar_one()
    as_of = periods.parse_as_of(args.as_of, config.tz)

    print(f"machine: {platform.platform()} | python {platform.python_version()} | "
          f"{os.cpu_count()} CPUs | {platform.processor() or platform.machine()}")
    print(f"store:   {make_url(url).render_as_string(hide_password=True)} ({store.dialect.name}), "
          f"{n_opps:,} opportunities; as of {as_of.isoformat(timespec='seconds')}; "
          f"sparkline {args.trend_periods} periods")

    with SlackEmulator(bot_token=TOKEN) as emu:
        emu.add_user(USER, "bench", locale="en-US")
        settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                            slack_api_base_url=emu.api_url, port=0)
        handle = start_bot(settings, config, engine, clock=lambda: as_of, host="127.0.0.1", port=0,
                           trend_periods=args.trend_periods)
        try:
            events = handle.url + "/slack/events"
            acks: list[float] = []
            answers: list[float] = []
            by_q: dict[str, list[float]] = {q: [] for q in QUESTIONS}
            failures = 0
            total = args.warmup + args.requests
            for i in range(total):
                q = QUESTIONS[i % len(QUESTIONS)]
                body = emu.slash_command_payload("/kpi", q, USER, CHANNEL)
                seen = len(emu.ephemerals(user=USER))
                t0 = time.perf_counter()
                status, _, _ = post_to_app(events, SECRET, body)
                t_ack = time.perf_counter() - t0
                try:
                    emu.wait_for(lambda e, k=seen: len(e.ephemerals(user=USER)) > k, timeout=30)
                except TimeoutError:
                    failures += 1
                    continue
                t_answer = time.perf_counter() - t0
                if status != 200:
                    failures += 1
                if i < args.warmup:
                    continue
                acks.append(t_ack)
                answers.append(t_answer)
                by_q[q].append(t_answer)
        finally:
            time.sleep(1.0)  # trends that follow their answer land before the emulator goes
            handle.stop()

    print(f"\n{len(acks)} requests (after {args.warmup} warm-up), {failures} failures")
    print(f"ack     {fmt_ms(acks)}   (target p95 <= 100 ms)")
    print(f"answer  {fmt_ms(answers)}   (target p95 <= 500 ms)")
    print("\nanswer time per question:")
    for q, vals in by_q.items():
        if vals:
            print(f"  {q:<40} {fmt_ms(vals)}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
