"""Disclosure probes, fifth round: surfaces and question forms the first four rounds (test_disclosure_leaks.py,
test_disclosure_probes2.py, …probes3.py, …probes4.py) did not try: the reading shown back to the asker (the
Slack answer's "how I read it" line, the `reading` of `kpibot ask --json`, `--explain`) when a hidden
colleague is named, misspelt, taken back with a correction or named as the owner of a meeting; the question
forms the language layer reads since the fourth round (corrections typed in the question, "since last week",
"since yesterday", "the last N days of October", "the month that just closed", ISO weeks, single days, "for
me", "furthest from target", "rank N", rankings longer than their rows), in English and Thai; counts that are
not money (deals closed by product, rep activity by type, content engagement by action, each also as the
filtered total); revenue growth over those spans; team targets of quotas over spans of one or two days at a
quota boundary; the Share button with a chart; the personal digest of a rep whose team has a per-rep alert
rule; and what `kpibot ask --user … --json` says about a rep's teammates beside what Slack says.

Same method as probes2–4 (their Book, company and helpers are reused): a small hand-made company loaded into
a real SQLite store, each question asked as the person would be answered (the functions the Slack listeners
call, or `kpibot ask --user … --json` through the CLI), the hidden figure worked out from what that person is
shown, and compared with the figure as the head of sales reads it. A test passes when there is no leak.

This round found one kind, now closed: `kpibot ask --user <rep> --json` on a `by rep` question listed a
row for every teammate who had any rows in the period, keyed by their rep id (only the label was
anonymised), where Slack shows the rep their own line and the team total; so the JSON said, teammate by
teammate, who closed something and who closed nothing, a figure the rep is refused when they ask for it.
The rest are kinds tried that hold.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from datetime import date

import pytest

from bot import answers, flows, sharing
from tests.test_disclosure_probes2 import (
    ALL,
    AS_OF,
    HEAD,
    ME,
    MGR,
    NOBODY,
    REPS,
    _answer,
    _minus,
    _numbers,
    _value,
)
from tests.test_disclosure_probes3 import Book3, _company, _digest, _found
from tests.test_disclosure_probes4 import RH_OCT_QUOTA, _Client, _NamedBook, _quotas

# SQLite only: every probe is about what the rule lets through, not about the backend
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

# the reps each person may see (U_MGR manages ent; U_NOBODY is linked to no rep)
SEES = {ME: {"me"}, MGR: {"me", "ra", "rb", "rc", "rd", "rk", "mgr"}, NOBODY: set()}
HIDDEN_NAMES = ["Hathai", "Boonrueang", "หทัย", "บุญเรือง"]


# ------------------------------------------------------------------ a company with narrow days


class Book5(Book3):
    """Book3 with content events, and every sale remembered with its amount (amounts drawn at random but
    fixed per rep, day and product, so no sum of several reps' deals comes out equal to one rep's)."""

    def __init__(self):
        super().__init__()
        self.content: list[dict] = []
        self.sales: list[tuple[str, str, float]] = []

    def sell(self, rep: str, day: str, product: str = "X") -> None:
        amount = round(random.Random(f"{rep}|{day}|{product}").uniform(1000, 9000), 2)
        self.sales.append((rep, day, amount))
        self.won(rep, amount, day, product=product)

    def ce(self, rep: str, action: str, day: str, times: int = 1) -> None:
        for _ in range(times):
            self.content.append({"event_id": f"e{len(self.content) + 1}", "content_id": "c1", "occurred_at": day,
                                 "rep_id": rep, "action": action})

    def tables(self) -> dict[str, list[dict]]:
        out = super().tables()
        if self.content:
            out["content_events"] = self.content
        return out

    def figures(self, user: str) -> dict[tuple[str, str], float]:
        """Each rep's revenue the person may not see, per day, ISO week, month and quarter: (rep, span) -> value."""
        out: dict[tuple[str, str], float] = {}
        for rep, day, amount in self.sales:
            if rep in SEES[user]:
                continue
            d = date.fromisoformat(day)
            for span in (day, day[:7], f"W{d.isocalendar()[1]}", f"Q{(d.month - 1) // 3 + 1}"):
                out[(rep, span)] = out.get((rep, span), 0.0) + amount
        return out


def _narrow_days_company(store, tmp_path, unlisted: str = "company"):
    """Every rep sold on 10 Sep, 10 Oct and 10 Nov. Besides: 29–31 Oct only rh, re and rf (31 Oct re alone,
    smb/north 30–31 Oct re and rf); 23, 28 and 29 Nov one smb rep each (rj, ri, rh); 1–2 Nov rc, rd, rk;
    product Z only rb. Calls by everyone, meetings only rh's, emails only ra's; content views by everyone,
    shares only ri's."""
    book = Book5()
    for rep in ALL:
        for day in ("2026-09-10", "2026-10-10", "2026-11-10"):
            book.sell(rep, day)
        book.act(rep, "call", "2026-11-10", 2)
        book.ce(rep, "view", "2026-11-10", 2)
    for rep, day in (("re", "2026-10-31"), ("re", "2026-10-30"), ("rf", "2026-10-30"), ("rh", "2026-10-29"),
                     ("rh", "2026-11-29"), ("ri", "2026-11-28"), ("rj", "2026-11-23"), ("rc", "2026-11-01"),
                     ("rd", "2026-11-02"), ("rk", "2026-11-02")):
        book.sell(rep, day)
    book.sell("rb", "2026-11-12", "Z")
    book.act("rh", "meeting", "2026-11-11", 3)
    book.act("ra", "email", "2026-11-11", 5)
    book.ce("ri", "share", "2026-11-11", 4)
    return _company(store, tmp_path, book, unlisted), book


def _learned(deps, reply) -> list[float]:
    """Every number a person is shown with an answer (its JSON, details and hidden metadata included, and its
    sparkline), and what a breakdown's total minus any one to four of its shown rows is."""
    a = reply.answer
    out = list(_numbers(a.to_json()))
    shown = [r["value"] for r in a.breakdown or [] if r["value"] is not None]
    if a.value is not None and a.by:
        for k in range(1, min(len(shown), 4) + 1):
            out += [a.value - sum(c) for c in itertools.combinations(shown, k)]
    if a.value is not None:
        out += [v for _, v in answers.trend_for(deps, reply.plan) or [] if v is not None]
    return out


def _isolated(learned: list[float], figures: dict[tuple[str, str], float]) -> list:
    return [(x, who) for x in learned for who, v in figures.items() if _found([x], v)]


# ------------------------------------------------------------------ the leak found (closed)


# kpibot ask --user <rep> --json on a `by rep` question kept a row for every teammate who had rows,
# keyed by their rep id, and named them again in hidden.rows and rows_total; it now applies the own-line
# narrowing Slack applies (bot.access.own_line_only)
def test_kpibot_ask_json_by_rep_does_not_say_which_teammates_sold(store, store_url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from config.settings import get_settings
    from kpi_engine.config_check import _cached
    from kpibot.cli import app
    from tests.fixtures import load

    book = Book3()
    for i, rep in enumerate(ALL):
        if rep not in ("rd", "rk"):  # in ent this month: me, ra, rb, rc sold; rd and rk closed nothing
            book.won(rep, 100 * (i + 1) + 9, "2026-11-10")
    book.won("ra", 77, "2026-11-29")  # yesterday: ra alone in ent
    load(store, tmp_path / "csv", book.tables())
    cfg = tmp_path / "kpibot.toml"
    cfg.write_text(f'[access]\nfull = ["{HEAD}"]\nmin_reps = 3\n', encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("KPIBOT_CONFIG", str(cfg))
    get_settings.cache_clear()
    _cached.cache_clear()
    teammates = {"ra", "rb", "rc", "rd", "rk"}
    try:
        runner = CliRunner()

        def ask(q: str, user: str) -> dict | None:
            r = runner.invoke(app, ["ask", *q.split(), "--user", user, "--as-of", AS_OF.isoformat(), "--json"])
            return json.loads(r.stdout) if r.exit_code == 0 else None

        assert ask("deals closed this month rep:rd", ME) is None  # refused: rd's figure is not the rep's
        said = {}
        for q in ("deals closed by rep this month", "revenue by rep this month", "deals closed by rep yesterday",
                  "ยอดขาย แยกตามคน เดือนนี้"):
            out = ask(q, ME)
            assert out is not None, q
            keys = {str(r["key"]) for r in out.get("breakdown") or []} | set((out.get("hidden") or {}).get("rows", []))
            if keys & teammates:
                said[q] = sorted(keys & teammates)
        assert not said, said  # e.g. this month: ra, rb, rc sold, so rd and rk closed nothing
    finally:
        get_settings.cache_clear()
        _cached.cache_clear()


# ------------------------------------------------------------------ kinds tried that hold


def test_slack_by_rep_shows_a_rep_no_teammates_line_or_count(store, tmp_path):
    """The Slack side of the finding above: the blocks of a rep's `by rep` answer (and its share) hold their own
    line and the team total, no teammate's id, name or count, whoever sold."""
    book = Book3()
    for i, rep in enumerate(ALL):
        if rep not in ("rd", "rk"):
            book.won(rep, 100 * (i + 1) + 9, "2026-11-10")
    deps = _company(store, tmp_path, book)
    names = [n for r, n, *_ in REPS if r not in ("me",)]
    for q in ("deals closed by rep this month", "revenue by rep this month", "top 10 reps by revenue this month",
              "ยอดขาย แยกตามคน เดือนนี้"):
        reply = answers.answer_question(deps, q, ME, AS_OF)
        assert reply.kind == "answer", (q, reply.text)
        table = json.dumps([b for b in reply.blocks if b.get("type") in ("table", "section")], ensure_ascii=False)
        assert not [n for n in names if n in table or n.split()[0] in table], (q, table)
        assert "another rep" not in table and "ตัวแทนขายคนอื่น" not in table, (q, table)
        assert not [k for k in ("ra", "rb", "rc", "rd", "rk") if f'"{k}"' in table], (q, table)


@pytest.mark.parametrize("q", [
    "Noi's revenue this month — sorry, my revenue", "revenue this month for Noi no wait team smb",
    "revenue this month ~Noi~ team smb", "revenue this month rep:Noi oops team:smb",
    "for Noi's standup: revenue by team this month", "revenue by team this month, for Hathai's deck",
    "for Noii's standup: revenue by team this month", "revenue this month rep:Noii", "revenue Noii this month",
    "ยอดขายของน้อย เอ้ย ของฉัน เดือนนี้", "ยอดขายของหทัย อ๊ะ ไม่ใช่ ทีม smb เดือนนี้", "ยอดขายของหทัยยเดือนนี้",
])
def test_the_reading_shown_back_names_no_hidden_colleague(store, tmp_path, q):
    """A hidden rep (rh: Hathai Boonrueang, nicknames Noi/น้อย) named, misspelt, taken back with a correction
    ('— sorry,', 'no wait', ~struck~, 'เอ้ย', 'อ๊ะ ไม่ใช่') or named as a meeting's owner: the reading line,
    the recognised entities and corrections, the blocks and any refusal carry no name, id or figure of rh's
    that the asker did not type, and a misspelling is never mended into rh's name."""
    book = _NamedBook()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1) + 1, "2026-11-10")
    deps = _company(store, tmp_path, book)
    rh = _value(deps, "revenue this month rep:rh", HEAD)
    for user in (ME, MGR, NOBODY):
        reply = answers.answer_question(deps, q, user, AS_OF)
        reading = reply.plan.query.reading.to_json() if reply.plan and reply.plan.query.reading else {}
        text = json.dumps([reply.text, reply.blocks, reply.reading, reading], ensure_ascii=False)
        assert not [n for n in HIDDEN_NAMES if n in text and n not in q], (user, q, text)
        assert '"rh"' not in text and "rep:rh" not in text, (user, q, text)
        assert not [e for e in reading.get("entities", []) if e.get("dim") == "rep" and e.get("value") == "rh"]
        assert not [c for c in reading.get("corrections", []) if "Noi" in c.get("read_as", "")], (user, q, reading)
        assert f"{rh:,.0f}" not in text, (user, q, text)


def test_kpibot_ask_explain_and_json_reading_name_no_hidden_colleague(store, store_url, tmp_path, monkeypatch):
    """The same through `kpibot ask --user … --explain` and `--json` (the tokens, entities, corrections and
    assumptions, and the error's choices), for a rep and someone not linked."""
    from typer.testing import CliRunner

    from config.settings import get_settings
    from kpi_engine.config_check import _cached
    from kpibot.cli import app
    from tests.fixtures import load

    book = _NamedBook()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1) + 1, "2026-11-10")
    load(store, tmp_path / "csv", book.tables())
    cfg = tmp_path / "kpibot.toml"
    cfg.write_text(f'[access]\nfull = ["{HEAD}"]\nmin_reps = 3\n', encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("KPIBOT_CONFIG", str(cfg))
    get_settings.cache_clear()
    _cached.cache_clear()
    try:
        runner = CliRunner()
        for user in (ME, NOBODY):
            for q in ("revenue this month rep:Noii", "revenue Noii this month", "for Noi's standup: revenue by team "
                      "this month", "Noi's revenue this month — sorry, team smb's", "ยอดขายของหทัยยเดือนนี้"):
                for flag in ("--explain", "--json"):
                    r = runner.invoke(app, ["ask", *q.split(), "--user", user, "--as-of", AS_OF.isoformat(), flag])
                    out = r.stdout + (r.stderr if r.stderr_bytes is not None else "")
                    assert not [n for n in HIDDEN_NAMES if n in out and n not in q], (user, q, flag, out)
                    assert "rep:rh" not in out and "'rh'" not in out and '"rh"' not in out, (user, q, flag, out)
    finally:
        get_settings.cache_clear()
        _cached.cache_clear()


NEW_FORMS = [
    "revenue since last week by team", "revenue since last week team:smb region:bkk", "revenue since yesterday by team",
    "revenue the last 2 days of October by team", "revenue the last 2 days of October team:smb region:north",
    "revenue the last 3 days of October by region", "revenue the month that just closed by team",
    "revenue at the October close by region", "revenue 2026-W48 by team", "revenue 2026-W44 team:smb region:north",
    "revenue yesterday by team", "revenue 2026-10-31 by region", "revenue 2026-11-02 by region",
    "revenue by product this month team:ent", "rank 2 team by revenue since last week",
    "top 20 regions by revenue this month team:ent", "bottom 20 products by revenue this month",
    "top 3 teams by revenue 2026-10-31", "bottom 3 regions by revenue the last 3 days of October",
    "which team is furthest from target this month", "my revenue — sorry, team smb's revenue since last week",
    "avg deal size the last 3 days of October team:smb", "win rate since last week by team",
    "revenue per rep since last week by team", "weekly revenue this month team:smb",
    "ยอดขาย ตั้งแต่สัปดาห์ที่แล้ว แยกตามทีม", "ยอดขาย ตั้งแต่เมื่อวาน แยกตามทีม", "ยอดขาย 2 วันสุดท้ายของเดือนตุลาคม ทีม smb",
    "ยอดขาย เดือนที่เพิ่งปิด แยกตามภาค ทีม smb", "ยอดขาย สัปดาห์ที่ 48 แยกตามทีม", "ยอดขาย 31 ต.ค. 2026 แยกตามทีม",
    "ยอดขาย เมื่อวาน แยกตามภาค", "ทีมไหนห่างเป้ามากที่สุด เดือนนี้",
]


@pytest.mark.parametrize("unlisted", ["company", "totals"])
def test_new_period_forms_isolate_no_hidden_reps_figure(store, tmp_path, unlisted):
    """Spans of one or two days where one rep sold ('since yesterday', 'the last 2 days of October', 31 Oct,
    'yesterday'), ISO weeks, the month just closed, rankings longer than their rows, 'rank 2', 'furthest from
    target', a typed correction; English and Thai: no number an answer shows (details, sparkline and
    total minus any of its shown rows included) is one hidden rep's revenue of a day, week, month or quarter."""
    deps, book = _narrow_days_company(store, tmp_path, unlisted)
    answered = 0
    for user in (ME, MGR, NOBODY):
        figures = book.figures(user)
        for q in NEW_FORMS:
            reply = answers.answer_question(deps, q, user, AS_OF)
            if reply.kind != "answer":
                continue
            answered += 1
            assert not _isolated(_learned(deps, reply), figures), (user, q, reply.answer.to_json())
    assert answered >= 2 * len(NEW_FORMS), answered
    # the premise: a day that is one rep's is shown to the head
    assert _value(deps, "revenue 2026-10-31", HEAD) == pytest.approx(next(a for r, d, a in book.sales if d == "2026-10-31"))


@pytest.mark.parametrize("span", ["since last week", "since yesterday", "the last 2 days of October", "2026-10-31",
                                  "yesterday", "2026-W44", "the month that just closed", "last 7 days"])
def test_revenue_growth_over_new_spans_gives_no_base_away(store, tmp_path, span):
    """Growth is now ÷ before: over a span whose base (the span before it) is one rep's, now ÷ (1 + growth)
    and the revenue answer's own change must not give that base away."""
    deps, book = _narrow_days_company(store, tmp_path)
    for user in (ME, MGR, NOBODY):
        figures = book.figures(user)
        for f in ("", "team:smb", "team:smb region:north", "team:ent region:north", "region:bkk", "product:Z"):
            g = answers.answer_question(deps, f"revenue growth {span} {f}", user, AS_OF)
            rv = answers.answer_question(deps, f"revenue {span} {f}", user, AS_OF)
            if g.kind != "answer" or rv.kind != "answer":
                continue
            ga, ra = g.answer, rv.answer
            learned = list(_numbers(ga.to_json()))
            if ga.value not in (None, -1) and ra.value is not None:
                learned.append(ra.value / (1 + ga.value))
            if ra.value is not None and ra.comparison.change not in (None, -1):
                learned.append(ra.value / (1 + ra.comparison.change))
            assert not _isolated(learned, figures), (user, span, f, ga.to_json())


@pytest.mark.parametrize("total_q, filtered_q, by_q, value, rep", [
    ("deals closed this month", "deals closed this month product:Z", "deals closed by product this month", "Z", "rb"),
    ("deals closed this month team:ent", "deals closed this month team:ent product:Z",
     "deals closed by product this month team:ent", "Z", "rb"),
    ("rep activity this month team:smb", "rep activity this month team:smb type:call",
     "rep activity by type this month team:smb", "meeting", "rh"),
    ("rep activity this month", "rep activity this month type:call", "rep activity by type this month", "email", "ra"),
    ("content engagement this month team:smb", "content engagement this month team:smb action:view",
     "content engagement by action this month team:smb", "share", "ri"),
    ("content engagement this month", "content engagement this month action:view",
     "content engagement by action this month", "share", "ri"),
], ids=["deals_by_product", "deals_by_product_in_ent", "meetings_in_smb", "emails", "shares_in_smb", "shares"])
def test_counts_that_are_not_money_do_not_give_away_one_reps_count(store, tmp_path, total_q, filtered_q, by_q,
                                                                   value, rep):
    """A product, an activity type or a content action that is one hidden rep's (Z: rb's deal; meetings: rh's;
    emails: ra's; shares: ri's): the count is not shown, as a row, as the filtered total, as a detail by
    type/action, or as the total minus the other type's filtered total."""
    deps, _ = _narrow_days_company(store, tmp_path)
    per_rep = not total_q.startswith("deals")  # activity and content are per active rep: count = value × reps
    head = _answer(deps, by_q, HEAD)
    row = next(r["value"] for r in head.breakdown if r["key"] == value)
    hidden = row * head.details["active_reps"] if per_rep else row
    assert hidden > 0
    for user in (u for u in (ME, MGR, NOBODY) if rep not in SEES[u]):
        by = _answer(deps, by_q, user)
        total = _answer(deps, total_q, user)
        filtered = _answer(deps, filtered_q, user)
        rows = {r["key"]: r["value"] for r in by.breakdown or []}
        assert rows.get(value) is None, (user, by_q, by.breakdown)
        reps = (total.details or {}).get("active_reps") or 0

        def scale(x, reps=reps):
            return None if x is None else x * reps if per_rep else x

        learned = [scale(rows.get(value)), scale(_minus(total.value, *[v for k, v in rows.items() if k != value]))]
        learned.append(((total.details or {}).get("by_type") or (total.details or {}).get("by_action") or {}).get(value))
        if filtered.value is not None and total.value is not None:
            learned.append(scale(total.value - filtered.value))
        learned += _numbers(filtered.to_json()) if "product:Z" in filtered_q else []
        assert not _found(learned, hidden, 1e-3), (user, learned, total.to_json(), filtered.to_json())


@pytest.mark.parametrize("span, hidden_days", [
    ("2026-W44", 6), ("the last 2 days of October", 2), ("2026-10-31", 1), ("2026-10-31 to 2026-11-01", 1),
    ("since 2026-10-31", 1), ("last 31 days", 2), ("the month that just closed", 31),
    ("2 วันสุดท้ายของเดือนตุลาคม", 2), ("ตั้งแต่เดือนที่แล้ว", 31),
])
def test_team_targets_over_spans_at_a_quota_boundary_are_hidden(store, tmp_path, span, hidden_days):
    """smb's target is its reps' quotas: in October rh's alone, in November three reps'. Spans of a day or two
    at the boundary, an ISO week across it, 'since', 'the last N days of', the month just closed (English and
    Thai): where October's days are in the span, the target, attainment and every number from which rh's
    pro-rated quota comes out are hidden; 1 November (three reps' quotas) keeps its target."""
    book = Book3()
    _quotas(book)
    deps = _company(store, tmp_path, book)
    nov_day = 17500.0 / 30
    share = RH_OCT_QUOTA * hidden_days / 31
    for user in (ME, MGR):
        for kpi in ("revenue", "target attainment"):
            q = f"{kpi} {span} team:smb"
            reply = answers.answer_question(deps, q, user, AS_OF)
            assert reply.kind == "answer", (q, reply.text)
            a = reply.answer
            assert a.target is None, (user, q, a.target)
            learned = list(_numbers(a.to_json()))
            learned += [_minus(x, k * nov_day) for x in learned for k in range(0, 31)]
            if kpi == "target attainment" and a.value:
                learned.append(_value(deps, f"revenue {span} team:smb", user) / a.value)
            assert not _found(learned, share, 1e-4), (user, q, a.to_json())
        assert _answer(deps, "revenue 2026-11-01 team:smb", user).target["value"] == pytest.approx(nov_day)


def test_share_with_a_chart_posts_only_what_the_sharer_sees(store, tmp_path, monkeypatch):
    """A rep shares `revenue this month team:smb chart` into a channel: the message and the chart uploaded
    beside it are computed with the sharer's clearance; October's point (one rep's) and the target line's
    October point (rh's quota alone) are not in what is drawn or posted."""
    from bot import charts

    quotas = Book3()
    _quotas(quotas)
    book = Book3()
    book.targets = quotas.targets  # smb's October target: rh's quota alone
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1) + 3, "2026-11-10")
        if rep not in ("rf", "rg"):  # October in smb/north: re alone
            book.won(rep, 1000 + 37 * i, "2026-10-12")
    deps = _company(store, tmp_path, book)
    assert _value(deps, "revenue 2026-10 team:smb region:north", ME) is None  # the premise: hidden when asked
    drawn: list = []
    monkeypatch.setattr(charts, "render_trend", lambda a, series, targets, lang: drawn.append((series, targets))
                        or b"\x89PNG")

    class Client(_Client):
        def conversations_open(self, **kw):
            return {"channel": {"id": "D0DM"}}

        def files_upload_v2(self, **kw):
            self.posted.append({"upload": kw})
            return {"ok": True}

    client = Client()
    deps = replace(deps, client=client, clock=lambda: AS_OF)
    hidden = [_value(deps, "revenue 2026-10 team:smb region:north", HEAD), RH_OCT_QUOTA]
    for q in ("revenue this month team:smb region:north chart", "revenue this month team:smb chart"):
        head = answers.answer_question(deps, q, HEAD, AS_OF)
        assert head.kind == "answer" and head.chart
        body = {"user": {"id": ME}, "channel": {"id": "C0SALES"}, "actions": [{"value": sharing.encode(q, AS_OF)}],
                "response_url": None}
        flows.share(deps, body, f"req-{len(drawn)}")
    assert len(drawn) == 2, client.posted  # both charts were drawn and uploaded into the channel
    assert [p for p in client.posted if "upload" in p and p["upload"]["channel"] == "C0SALES"]
    learned = [v for series, targets in drawn for _, v in [*series, *(targets or [])]]
    learned += _numbers(json.loads(json.dumps([p for p in client.posted if "upload" not in p], default=str)))
    assert not [h for h in hidden if _found(learned, h)], (drawn, client.posted)


def test_a_reps_personal_digest_lists_only_their_own_per_rep_alert(store, tmp_path):
    """A per-rep alert rule fires for every ent rep: a rep's digest shows their own alert only (no teammate's
    name, id or value); their manager's shows each of his reps'; someone not linked, none."""
    from config.schedule_models import AlertsConfig
    from kpi_engine.ops import OpsStore
    from schedules.alerts import run_alerts

    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1) + 11, "2026-11-10")
    rules = [{"id": "rev_rep", "name": "Rep revenue", "kpi": "revenue", "grain": "month", "period": "to_date",
              "per": "rep", "filter": {"team": "ent"}, "conditions": [{"type": "threshold", "below": 1_000_000}]}]
    deps = _company(store, tmp_path, book, unlisted="totals", alerts=AlertsConfig(channel="C0ALERTS", rules=rules))
    ops = OpsStore(deps.engine.store)
    run_alerts(deps.engine, ops, deps.config, AS_OF, explain=False)
    fired = {a.segment for a in ops.open_alerts(as_of=int(AS_OF.timestamp()))}
    assert {"me", "ra", "rb"} <= fired, fired
    values = {r: _value(deps, f"revenue this month rep:{r}", HEAD) for r in ALL}
    mine = _digest(deps, ME, AS_OF, ops=ops, kpis=["revenue"])
    assert [a.segment for a in mine.alerts] == ["me"], mine.alerts
    from bot.digest_blocks import digest_message

    text = json.dumps(digest_message(mine), ensure_ascii=False)
    others = [n for r, n, *_ in REPS if r != "me"]
    assert not [n for n in others if n in text or n.split()[0] in text], text
    assert not [r for r, v in values.items() if r != "me" and f"{v:,.0f}" in text], text
    team = _digest(deps, MGR, AS_OF, ops=ops, kpis=["revenue"])
    assert {a.segment for a in team.alerts} == fired & SEES[MGR], team.alerts
    assert _digest(deps, NOBODY, AS_OF, ops=ops, kpis=["revenue"]).alerts == []
