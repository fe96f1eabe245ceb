"""A burst of heavy /kpi questions at once: does every ack still make Slack's 3 seconds? (run by hand;
it prints its figures and the machine). Not a test.

    flock /work/bench.lock .venv/bin/python benchmarks/bench_burst.py --build 1000000     # builds once, reuses
    flock /work/bench.lock .venv/bin/python benchmarks/bench_burst.py --store /work/benchdata/i13-1000000-s6.db
    .venv/bin/python benchmarks/bench_burst.py --demo small                               # a quick look

Starts the real service (uvicorn on a free loopback port, the code `kpibot run` starts) in a process of
its own, wired to the local Slack emulator in this one, and sends --concurrency signed `/kpi` requests at the same instant, each from its
own user, --rounds times. The questions are the heavy kind: breakdowns by rep, team, region, product and
channel, half of them with a chart. For each it records the ack (the HTTP round trip of the signed
request; failed = not 200, or over 3 s, or no answer at all) and the answer (from sending the command to
the emulator receiving the reply on the response_url). It prints failed acks, ack p50 / p99, answer
p50 / p99, how many were answered, how many acks said "working on it" or shed, and the charts posted.

--build N makes the demo company (seed 7, anchor 2026-11-23) with N opportunities in
/work/benchdata/i13-N-sM.db, the same file bench_compare.py builds and reuses. Target (issue 8): 32
concurrent heavy questions at 1M opportunities, 0 failed acks, ack p99 <= 1 s, every question answered.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_compare import ANCHOR, sqlite_store  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.service import start_bot  # noqa: E402
from config.app_config import BotConfig  # noqa: E402
from config.settings import Settings  # noqa: E402
from kpi_engine.config_check import get_config  # noqa: E402
from kpi_engine.db import open_store  # noqa: E402
from kpi_engine.engine import KpiEngine  # noqa: E402
from slack_emulator import SlackEmulator, post_to_app  # noqa: E402

TOKEN = "xoxb-bench-token"
SECRET = "bench-signing-secret"
CHANNEL = "C0SALES"
ACK_LIMIT = 3.0  # Slack's

HEAVY = [
    "revenue by rep this year",
    "win rate by team last quarter chart",
    "avg deal size by region this year",
    "revenue by product this year chart",
    "deals closed by rep last quarter",
    "lead volume by channel this quarter chart",
    "win rate by rep this year",
    "revenue by team this year chart",
]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))] if s else float("nan")


def serve(url: str, api_url: str, workers: int | None, queue: int | None) -> int:
    """The bot alone in this process (--serve): prints its URL, runs until stdin closes. The clients and
    the emulator live in the parent, so their threads do not compete with the bot's for one GIL, as
    Slack's do not in production."""
    config = _config(workers, queue)
    engine = KpiEngine(open_store(url), config)
    settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                        slack_api_base_url=api_url, port=0)
    as_of = datetime.combine(ANCHOR, dtime(10, 0), config.tz)
    handle = start_bot(settings, config, engine, clock=lambda: as_of, host="127.0.0.1", port=0)
    print(handle.url, flush=True)
    sys.stdin.read()
    handle.stop()
    return 0


def _config(workers: int | None, queue: int | None):
    config = get_config()
    overrides = {k: v for k, v in (("answer_workers", workers), ("answer_queue", queue)) if v}
    return config.model_copy(update={"bot": BotConfig(**{**config.bot.model_dump(), **overrides})})


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        _, _, url, api_url, workers, queue = sys.argv
        return serve(url, api_url, int(workers) or None, int(queue) or None)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", help="a SQLite file or a database URL holding the data")
    where.add_argument("--build", type=int, metavar="N", help="build (once) and use the demo company at N opportunities")
    where.add_argument("--demo", help="a throwaway SQLite store with the demo company at this scale (small, medium …)")
    ap.add_argument("--dir", default="/work/benchdata", help="where --build keeps its store")
    ap.add_argument("-c", "--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, help="[bot] answer_workers (default: the config's)")
    ap.add_argument("--queue", type=int, help="[bot] answer_queue (default: the config's)")
    ap.add_argument("--answer-timeout", type=float, default=600.0)
    args = ap.parse_args()

    config = _config(args.workers, args.queue)
    if args.build:
        url = sqlite_store(args.build, Path(args.dir))  # the store bench_compare builds and reuses
    elif args.demo:
        from kpi_engine.demo import generate

        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-burst-')}/kpibot.db"
        print(f"generating the demo company ({args.demo}) into {url} ...", flush=True)
        generate(open_store(url), seed=7, scale=args.demo, anchor=ANCHOR, tz=config.timezone)
    else:
        url = args.store if "://" in args.store else f"sqlite:///{Path(args.store).resolve()}"
    store = open_store(url)
    with store.connect() as conn:
        n_opps = conn.execute(text("SELECT COUNT(*) FROM opportunities")).scalar_one()
    as_of = datetime.combine(ANCHOR, dtime(10, 0), config.tz)

    print(f"machine: {platform.platform()} | python {platform.python_version()} | {os.cpu_count()} CPUs | "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at start")
    print(f"store:   {make_url(url).render_as_string(hide_password=True)} ({store.dialect.name}), "
          f"{n_opps:,} opportunities; as of {as_of.isoformat(timespec='minutes')}")
    print(f"bot:     answer_workers {config.bot.answer_workers}, answer_queue {config.bot.answer_queue}, "
          f"working_notice_after {config.bot.working_notice_after}; {args.concurrency} questions at once x "
          f"{args.rounds} rounds", flush=True)

    users = [f"UB{i:03d}" for i in range(args.concurrency)]
    acks: list[float] = []
    answers: list[float] = []
    failed_acks = working = shed = unanswered = errors = 0
    with SlackEmulator(bot_token=TOKEN) as emu:
        for u in users:
            emu.add_user(u, u.lower(), locale="en-US")
        bot = subprocess.Popen([sys.executable, __file__, "--serve", url, emu.api_url, str(args.workers or 0),
                                str(args.queue or 0)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        events = bot.stdout.readline().strip() + "/slack/events"  # type: ignore[union-attr]
        try:
            for rnd in range(args.rounds):
                start = threading.Barrier(len(users))
                seen = {u: len(emu.ephemerals(user=u)) for u in users}

                def ask(i: int, rnd: int = rnd, start: threading.Barrier = start, seen: dict = seen):
                    user = users[i]
                    body = emu.slash_command_payload("/kpi", HEAVY[(i + rnd) % len(HEAVY)], user, CHANNEL)
                    start.wait()
                    t0 = time.perf_counter()
                    try:
                        status, _, raw = post_to_app(events, SECRET, body, timeout=30)
                    except OSError:
                        status, raw = 0, b""
                    t_ack = time.perf_counter() - t0
                    said = json.loads(raw).get("text", "") if raw.strip().startswith(b"{") else ""
                    try:
                        reply = emu.wait_for(lambda e: e.ephemerals(user=user)[seen[user]:][:1][0],
                                             timeout=args.answer_timeout)
                        t_answer = time.perf_counter() - t0
                    except TimeoutError:
                        reply, t_answer = None, None
                    return status, t_ack, said, reply, t_answer

                t_round = time.perf_counter()
                with ThreadPoolExecutor(len(users)) as pool:
                    results = list(pool.map(ask, range(len(users))))
                for status, t_ack, said, reply, t_answer in results:
                    acks.append(t_ack)
                    if status != 200 or t_ack > ACK_LIMIT:
                        failed_acks += 1
                    working += "Working on it" in said
                    shed += "too many questions" in said
                    if reply is None:
                        unanswered += 1
                    else:
                        answers.append(t_answer)
                        errors += "request `" in (reply.get("text") or "")
                print(f"round {rnd + 1}: {sum(r[4] is not None for r in results)}/{len(results)} answered in "
                      f"{time.perf_counter() - t_round:.1f} s", flush=True)
            emu.wait_for(lambda e: len([f for f in e.files() if f["completed"]]) >= 1, timeout=60)
            charts = len([f for f in emu.files() if f["completed"]])
        finally:
            bot.communicate(timeout=120)  # closing its stdin stops it (it drains its answers first)

    total = len(acks)
    print(f"\n{total} questions: failed acks {failed_acks}; answered {len(answers)}/{total} "
          f"({errors} of them error replies); acks saying 'working on it' {working}, shed {shed}; charts {charts}")
    print(f"ack     p50 {statistics.median(acks) * 1000:8.1f} ms   p99 {pct(acks, 99) * 1000:8.1f} ms   "
          f"max {max(acks) * 1000:8.1f} ms   (target: 0 failed, p99 <= 1 s)")
    if answers:
        print(f"answer  p50 {statistics.median(answers):8.2f} s    p99 {pct(answers, 99):8.2f} s    "
              f"max {max(answers):8.2f} s")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 1 if failed_acks or unanswered or shed else 0


if __name__ == "__main__":
    raise SystemExit(main())
