"""Disclosure probes, fourth round: surfaces and question forms the first three rounds (test_disclosure_leaks.py,
test_disclosure_probes2.py, test_disclosure_probes3.py) did not try: a team target made of one rep's quota
read through the rows of `target attainment by team`, the comparison line and sparkline of target
attainment, the target line of a chart, a team line of the personal digest and an open alert on target
attainment in a personal digest; rolling windows and ISO weeks of one rep (English and Thai); a rep's own
line beside a team total that is one colleague besides them; reps named by Thai name and nickname
(refusals and did-you-mean); "how many reps hit target"; the Share button pressed by a rep on a manager's
question.

Same method as probes2 and probes3 (their Book, company and helpers are reused): a small hand-made company
loaded into a real SQLite store, each question asked as the person would be answered in Slack (the
functions the listeners call), the hidden figure worked out from what that person is shown, and compared
with the figure as the head of sales reads it. A test passes when there is no leak. The leaks this round
found were one kind on five surfaces: a team target made of its reps' quotas was checked against those
reps (Verdict.target) only for the value of a filtered answer, not for a breakdown's rows, the comparison
period, a trend's points, a chart's target line or an alert's value (engine.shown), so each of those gave
a lone rep's quota away. All are closed at the root (Coverage.target_ok / targets_hidden: every number
made from a target passes the rule for the reps whose quotas make it, per row and per period), which also
closes the same kind through a quarter's target minus its months', deals-closed quotas, a ranking of
teams by attainment and `kpibot ask --json` (the tests after the first four).
"""

from __future__ import annotations

import json

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
    _october_of_one_rep,
    _truth,
    _value,
)
from tests.test_disclosure_probes3 import DEC7, Book3, _answer_at, _company, _digest, _found

# SQLite only: every probe is about what the rule lets through, not about the backend
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

RH_OCT_QUOTA = 4321.0  # rh's own revenue quota for October: the only quota in smb that month


def _quotas(book: Book3) -> None:
    """Every rep sold in October and November. smb has no target row of its own, so its target is the sum
    of its reps' quotas: in October rh's alone (hidden from anyone who may not see rh), in November rh's,
    ri's and rj's (three reps no one outside smb sees: shown). The company has a target row each month."""
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10")
        book.won(rep, 10 * (i + 1) + 7, "2026-10-10")
    book.targets += [{"period": "2026-10", "metric": "revenue", "value": str(RH_OCT_QUOTA), "rep_id": "rh"},
                     {"period": "2026-10", "metric": "revenue", "value": "20000"},
                     {"period": "2026-11", "metric": "revenue", "value": "5000", "rep_id": "rh"},
                     {"period": "2026-11", "metric": "revenue", "value": "6000", "rep_id": "ri"},
                     {"period": "2026-11", "metric": "revenue", "value": "6500", "rep_id": "rj"},
                     {"period": "2026-11", "metric": "revenue", "value": "30000"}]


def _quota_company(store, tmp_path):
    book = Book3()
    _quotas(book)
    deps = _company(store, tmp_path, book)
    hidden = _answer(deps, "revenue 2026-10 rep:rh", HEAD).target["value"]
    assert hidden == RH_OCT_QUOTA
    for user in (ME, MGR):
        # the premise: asked directly, the October target of smb is not shown, nor its attainment
        assert answers.answer_question(deps, "revenue 2026-10 rep:rh", user, AS_OF).kind == "denied"
        assert _answer(deps, "revenue 2026-10 team:smb", user).target is None
        assert _value(deps, "target attainment 2026-10 team:smb", user) is None
        assert _value(deps, "revenue 2026-10 team:smb", user) is not None  # October's revenue of smb is shown
    return deps, hidden


# ------------------------------------------------------------------ leaks found (closed)


@pytest.mark.parametrize("q, rev_q", [
    ("target attainment by team 2026-10", "revenue by team 2026-10"),
    ("ผลงานเทียบเป้า แยกตามทีม ต.ค. 2026", "ยอดขาย แยกตามทีม ต.ค. 2026"),
], ids=["en", "th"])
def test_target_attainment_by_team_does_not_give_away_one_reps_quota(store, tmp_path, q, rev_q):
    """The smb row of `target attainment by team` is smb's revenue ÷ smb's target, in October rh's quota
    alone; smb's revenue is shown ('revenue by team'), so the row must be hidden (English and Thai)."""
    deps, hidden = _quota_company(store, tmp_path)
    leaks = {}
    for user in (ME, MGR):
        att = {r["key"]: r["value"] for r in _answer(deps, q, user).breakdown}
        rev = {r["key"]: r["value"] for r in _answer(deps, rev_q, user).breakdown}
        learned = [rev["smb"] / att["smb"] if att.get("smb") and rev.get("smb") else None]
        if _found(learned, hidden, 1e-4):
            leaks[user] = (att, rev)
    assert not leaks, leaks


@pytest.mark.parametrize("surface", ["comparison", "sparkline"])
def test_target_attainment_in_other_periods_does_not_give_away_one_reps_quota(store, tmp_path, surface):
    """November's attainment of smb is shown (three reps' quotas); its comparison line ('vs 2026-10') and
    its sparkline's October point are October's, revenue ÷ rh's quota alone."""
    deps, hidden = _quota_company(store, tmp_path)
    leaks = {}
    for user in (ME, MGR):
        oct_revenue = _value(deps, "revenue 2026-10 team:smb", user)
        if surface == "comparison":
            a = _answer(deps, "target attainment this month team:smb vs 2026-10", user)
            assert a.value is not None
            point = a.comparison.value
        else:
            reply = answers.answer_question(deps, "target attainment this month team:smb", user, AS_OF)
            assert reply.answer is not None and reply.answer.value is not None
            trend = answers.trend_for(deps, reply.plan) or []
            point = next((v for p, v in trend if p.label == "2026-10"), None)
        learned = [oct_revenue / point if point else None]
        if _found(learned, hidden, 1e-4):
            leaks[user] = (point, oct_revenue)
    assert not leaks, leaks


def test_a_charts_target_line_does_not_give_away_one_reps_quota(store, tmp_path):
    """The target line of `revenue this month team:smb chart` (engine.target_series, what flows.post_chart
    draws): October's point is rh's quota alone, though October's revenue is shown."""
    deps, hidden = _quota_company(store, tmp_path)
    leaks = {}
    for user in (ME, MGR):
        reply = answers.answer_question(deps, "revenue this month team:smb chart", user, AS_OF)
        assert reply.kind == "answer" and reply.chart and reply.answer.target is not None  # the chart has a target
        # what flows.post_chart hands to charts.render_trend: the points and the target line
        targets = deps.engine.target_series(reply.query, reply.as_of, n=deps.chart_periods,
                                            clearance=reply.plan.clearance)
        if _found([v for _, v in targets], hidden):
            leaks[user] = [(p.label, v) for p, v in targets]
    assert not leaks, leaks


def test_a_personal_digests_open_alert_does_not_give_away_a_quota_target(store, tmp_path):
    """An open alert on smb's target attainment in the digest of someone who sees totals: smb's revenue
    is shown to them, so revenue ÷ the alert's value would be rh's quota (engine.shown must check it)."""
    from config.schedule_models import AlertsConfig
    from kpi_engine.ops import OpsStore
    from schedules.alerts import run_alerts

    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10")
    book.targets += [{"period": "2026-11", "metric": "revenue", "value": "30000"},
                     {"period": "2026-11", "metric": "revenue", "value": "5003", "rep_id": "rh"}]
    rules = [{"id": "att_smb", "name": "SMB attainment", "kpi": "target_attainment", "grain": "month",
              "period": "to_date", "filter": {"team": "smb"},
              "conditions": [{"type": "threshold", "below": 1_000_000_000}]}]
    deps = _company(store, tmp_path, book, unlisted="totals", alerts=AlertsConfig(channel="C0ALERTS", rules=rules))
    hidden = _answer(deps, "revenue this month rep:rh", HEAD).target["value"]
    assert hidden == 5003
    assert _value(deps, "target attainment this month team:smb", NOBODY) is None  # hidden when asked
    revenue = _value(deps, "revenue this month team:smb", NOBODY)
    assert revenue is not None
    ops = OpsStore(deps.engine.store)
    run_alerts(deps.engine, ops, deps.config, AS_OF, explain=False)
    assert [a.rule_id for a in ops.open_alerts(as_of=int(AS_OF.timestamp()))] == ["att_smb"], "the rule fired"
    d = _digest(deps, NOBODY, AS_OF, ops=ops, kpis=["revenue"])
    learned = [revenue / x.value for x in d.alerts if x.value]
    assert not _found(learned, hidden, 1e-4), d.alerts


# ------------------------------------------------------------------ the same kind through other routes


def test_a_quarters_team_target_minus_its_months_does_not_give_away_one_reps_quota(store, tmp_path):
    """Quotas pro-rate by day, so a quarter's team target minus the months of it that are shown is the
    rest: Q4 so far is October (rh's quota alone) plus November (three reps', shown)."""
    deps, hidden = _quota_company(store, tmp_path)
    nov = _answer(deps, "revenue this month team:smb", HEAD).target["value"]
    assert _answer(deps, "revenue this quarter team:smb", HEAD).target["value"] == pytest.approx(hidden + nov)
    for user in (ME, MGR):
        month = _answer(deps, "revenue this month team:smb", user)
        assert month.target is not None and month.target["value"] == nov  # November's target is shown
        learned = []
        for q, rev_q in (("revenue this quarter team:smb", None), ("revenue ytd team:smb", None),
                         ("revenue last 60 days team:smb", None),
                         ("target attainment this quarter team:smb", "revenue this quarter team:smb"),
                         ("ผลงานเทียบเป้า ไตรมาสนี้ ทีม smb", "ยอดขาย ไตรมาสนี้ ทีม smb")):
            a = _answer(deps, q, user)
            learned += [_minus((a.target or {}).get("value"), nov), *[_minus(x, nov) for x in _numbers(a.to_json())]]
            if rev_q and a.value:
                learned.append(_minus(_value(deps, rev_q, user) / a.value, nov))
        assert not _found(learned, hidden, 1e-4), learned


def test_a_quarters_team_target_is_shown_when_each_of_its_months_is(store, tmp_path):
    """The other side: with three reps' quotas in October too, every stretch of the quarter passes the
    rule, and the quarter's target and attainment stay shown."""
    book = Book3()
    _quotas(book)
    book.targets += [{"period": "2026-10", "metric": "revenue", "value": "1000", "rep_id": r} for r in ("ri", "rj")]
    deps = _company(store, tmp_path, book)
    head = _answer(deps, "revenue this quarter team:smb", HEAD).target["value"]
    for user in (ME, MGR):
        assert _answer(deps, "revenue this quarter team:smb", user).target["value"] == head
        assert _value(deps, "target attainment this quarter team:smb", user) is not None
        assert _answer(deps, "revenue 2026-10 team:smb", user).target is not None


def test_deals_closed_quota_targets_are_protected_like_revenue_quotas(store, tmp_path):
    """deals_closed has summed targets too: smb's is its reps' deal quotas, in October rh's alone. Not
    in the answer, its chart's target line, nor the quarter minus November."""
    book = Book3()
    _quotas(book)
    book.targets += [{"period": "2026-10", "metric": "deals_closed", "value": "7", "rep_id": "rh"},
                     *({"period": "2026-11", "metric": "deals_closed", "value": v, "rep_id": r}
                       for r, v in (("rh", "3"), ("ri", "4"), ("rj", "5")))]
    deps = _company(store, tmp_path, book)
    hidden = _answer(deps, "deals closed 2026-10 team:smb", HEAD).target["value"]
    assert hidden == 7
    for user in (ME, MGR):
        nov = _answer(deps, "deals closed this month team:smb", user).target
        assert nov is not None and nov["value"] == 12  # three reps' quotas: shown
        assert _answer(deps, "deals closed 2026-10 team:smb", user).target is None
        learned = [_minus((_answer(deps, "deals closed this quarter team:smb", user).target or {}).get("value"), 12)]
        reply = answers.answer_question(deps, "deals closed this month team:smb chart", user, AS_OF)
        assert reply.kind == "answer" and reply.chart
        line = deps.engine.target_series(reply.query, reply.as_of, n=4, clearance=reply.plan.clearance)
        assert dict((p.label, v) for p, v in line)["2026-11"] == 12  # the shown month keeps its target
        learned += [v for _, v in line]
        assert not _found(learned, hidden), learned


@pytest.mark.parametrize("q", ["top 1 team by target attainment 2026-10", "bottom 1 team by target attainment 2026-10",
                               "target attainment by team 2026-10 team:smb"])
def test_a_ranking_of_teams_by_attainment_does_not_give_away_one_reps_quota(store, tmp_path, q):
    """A ranking cut at one row, with ent on a target row of its own (about no rep, shown): smb's row,
    rh's quota alone in October, is hidden and goes last, so it is never the one row kept."""
    book = Book3()
    _quotas(book)
    book.targets.append({"period": "2026-10", "metric": "revenue", "value": "9000", "team": "ent"})
    deps = _company(store, tmp_path, book)
    hidden = RH_OCT_QUOTA
    smb_rev = _value(deps, "revenue 2026-10 team:smb", HEAD)
    for user in (ME, MGR):
        a = _answer(deps, q, user)
        rows = {r["key"]: r["value"] for r in a.breakdown or []}
        assert rows.get("smb") is None, (user, q, a.breakdown)
        learned = [smb_rev / v for v in rows.values() if v] + [smb_rev / a.value if a.value else None]
        assert not _found(learned, hidden, 1e-4), (user, q, a.to_json())
    if q.startswith("top"):
        assert {r["key"]: r["value"] for r in _answer(deps, q, ME).breakdown}.get("ent") is not None


def test_kpibot_ask_json_target_attainment_by_team_does_not_give_away_one_reps_quota(store, store_url, tmp_path,
                                                                                     monkeypatch):
    """Finding 1 through `kpibot ask --user <id> --json`: every number in the JSON, for a rep and ent's
    manager."""
    from typer.testing import CliRunner

    from config.settings import get_settings
    from kpi_engine.config_check import _cached
    from kpibot.cli import app
    from tests.fixtures import load

    book = Book3()
    _quotas(book)
    load(store, tmp_path / "csv", book.tables())
    cfg = tmp_path / "kpibot.toml"
    cfg.write_text(f'[access]\nfull = ["{HEAD}"]\nmin_reps = 3\n', encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("KPIBOT_CONFIG", str(cfg))
    get_settings.cache_clear()
    _cached.cache_clear()
    try:
        runner = CliRunner()

        def ask(q: str, user: str) -> dict:
            r = runner.invoke(app, ["ask", *q.split(), "--user", user, "--as-of", AS_OF.isoformat(), "--json"])
            assert r.exit_code == 0, (q, user, r.stdout)
            return json.loads(r.stdout)

        head = {r["key"]: r["value"] for r in ask("target attainment by team 2026-10", HEAD)["breakdown"]}
        assert head["smb"] is not None
        for user in (ME, MGR):
            out = ask("target attainment by team 2026-10", user)
            rev = {r["key"]: r["value"] for r in ask("revenue by team 2026-10", user)["breakdown"]}
            assert rev["smb"] is not None
            learned = [rev["smb"] / x for x in _numbers(out) if x] + _numbers(out)
            assert not _found(learned, RH_OCT_QUOTA, 1e-4), (user, out)
    finally:
        get_settings.cache_clear()
        _cached.cache_clear()


# ------------------------------------------------------------------ kinds tried that hold


def test_target_attainment_by_team_is_hidden_from_a_company_only_person(store, tmp_path):
    """The same breakdown for someone who sees company totals only: every team row is hidden."""
    deps, hidden = _quota_company(store, tmp_path)
    for q in ("target attainment by team 2026-10", "target attainment 2026-10 team:smb"):
        a = _answer(deps, q, NOBODY)
        assert not [r for r in a.breakdown or [] if r["value"] is not None], a.breakdown
        learned = [a.value if a.by is None else None, *_numbers(a.to_json().get("details"))]
        assert not _found(learned, hidden), a.to_json()


def test_a_personal_digests_team_line_does_not_give_away_a_quota_target(store, tmp_path):
    """The team lines' month-to-date attainment, when a team's target is one rep's quota."""
    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-30")  # last week's Monday: everyone
        book.won(rep, 10 * (i + 1), "2026-12-02")  # the month so far: everyone
    book.targets += [{"period": "2026-12", "metric": "revenue", "value": "31000"},
                     {"period": "2026-12", "metric": "revenue", "value": "15500", "team": "ent"},
                     {"period": "2026-12", "metric": "revenue", "value": "7777", "rep_id": "rh"}]
    deps = _company(store, tmp_path, book, unlisted="totals")
    pace_at = DEC7.replace(hour=0)
    head = _answer_at(deps, "revenue this month team:smb", HEAD, pace_at)
    hidden = head.target["value"]  # rh's quota, pro-rated to the month so far
    shown = _answer_at(deps, "revenue this month team:smb", NOBODY, pace_at)
    assert shown.value == head.value and shown.target is None  # the revenue is shown, its target is not
    d = _digest(deps, NOBODY, DEC7, kpis=["revenue"])
    smb = next(t for t in d.teams if t.team == "smb")
    learned = [shown.value / smb.attainment if smb.attainment else None]
    assert not _found(learned, hidden, 1e-3), smb


@pytest.mark.parametrize("q", [
    "revenue last 7 days team:smb region:north",
    "ยอดขาย 7 วันที่ผ่านมา ทีม smb ภาคเหนือ",
    "revenue 2026-W47 team:smb region:north",
    "ยอดขาย W47 2026 ทีม smb ภาคเหนือ",
])
def test_rolling_windows_and_iso_weeks_of_one_rep_are_hidden(store, tmp_path, q):
    """A window of days and an ISO week that are one rep's (English and Thai): the value, its
    comparison, and the sparkline point of that window."""
    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10")
        if rep not in ("rf", "rg"):  # in smb/north the last 7 days and week 47 are re's alone
            book.won(rep, 3 * (i + 1), "2026-11-27")
            book.won(rep, 1 * (i + 1), "2026-11-18")
    deps = _company(store, tmp_path, book)
    head = _answer(deps, q, HEAD)
    hidden = {head.value}
    assert hidden == {_truth(deps, q.replace("team:smb region:north", "rep:re").replace("ทีม smb ภาคเหนือ", "rep:re"))}
    for user in (ME, MGR, NOBODY):
        reply = answers.answer_question(deps, q, user, AS_OF)
        a = reply.answer
        assert a is not None and a.value is None, (user, q, a and a.value)
        learned = [a.comparison.value, *_numbers(a.to_json())]
        trend = deps.engine.series(reply.plan.query, AS_OF, n=4, clearance=reply.plan.clearance)
        learned += [v for _, v in trend]
        assert not [h for h in hidden if _found(learned, h)], (user, q, a.to_json(), trend)
    # the same window as the comparison line of a question that is shown
    a = _answer(deps, "revenue this month team:smb region:north vs last 7 days", ME)
    assert a.value is not None and a.comparison.value is None and a.comparison.change is None


def test_a_reps_own_line_beside_a_team_total_of_one_colleague_more(store, tmp_path):
    """`by rep` shows a rep their own line and their team's total: with a product only they and one
    colleague sold, the total minus their line would be the colleague's."""
    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10", product="Y" if rep in ("me", "ra") else "X")
    deps = _company(store, tmp_path, book)
    hidden = _truth(deps, "revenue this month rep:ra")
    mine = _value(deps, "revenue this month rep:me", ME)
    for q in ("revenue by rep this month product:Y", "revenue by rep this month", "ยอดขาย แยกตามคน เดือนนี้ product:Y",
              "revenue this month team:ent product:Y"):
        reply = answers.answer_question(deps, q, ME, AS_OF)
        assert reply.kind == "answer", (q, reply.text)
        a = reply.answer
        rows = [r["value"] for r in a.breakdown or [] if r["value"] is not None]
        learned = [*rows, _minus(a.value, mine)]
        assert not _found(learned, hidden), (q, a.to_json())


class _NamedBook(Book3):
    """Book3 with rh's Thai name and nicknames in the reps table."""

    def tables(self):
        out = super().tables()
        for r in out["reps"]:
            r["name_th"], r["nickname"] = ("หทัย บุญเรือง", "Noi;น้อย") if r["rep_id"] == "rh" else ("", "")
        return out


@pytest.mark.parametrize("q", [
    "revenue this month rep:Noi", "how many deals did Noi close this month", "ยอดขายของน้อยเดือนนี้",
    "ดีลปิดของหทัยเดือนนี้", "ยอดขายเดือนนี้ rep:หทัย บุญเรือง", "revenue this month rep:Hathay",
    "ยอดขายของหทัยยเดือนนี้", "win rate this month rep:Noii",
])
def test_a_hidden_rep_by_thai_name_or_nickname_is_refused_without_a_name_or_number(store, tmp_path, q):
    book = _NamedBook()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1) + 1, "2026-11-10")
    deps = _company(store, tmp_path, book)
    hidden = {_truth(deps, "revenue this month rep:rh"), 1601.0}
    names = ["Hathai", "Boonrueang", "หทัย", "บุญเรือง"]
    for user in (ME, MGR, NOBODY):
        reply = answers.answer_question(deps, q, user, AS_OF)
        assert reply.kind != "answer" or reply.answer.value is None, (user, q, reply.text)
        text = reply.text + json.dumps(reply.blocks, ensure_ascii=False)
        assert not [n for n in names if n in text and n not in q], (user, q, text)
        assert not [h for h in hidden if f"{h:,.0f}" in text], (user, q, text)


@pytest.mark.parametrize("q", ["how many reps hit target this month", "how many reps hit their quota last month",
                               "กี่คนถึงเป้าเดือนนี้", "which reps are above target this month"])
def test_how_many_reps_hit_target_gives_no_count_of_hidden_reps(store, tmp_path, q):
    """A count over reps that is not a KPI: answered with no list or count of other reps' attainment."""
    book = Book3()
    _quotas(book)
    deps = _company(store, tmp_path, book)
    others = [n for r, n, *_ in REPS if r not in ("me", "mgr")]
    for user in (ME, NOBODY):
        reply = answers.answer_question(deps, q, user, AS_OF)
        text = reply.text + json.dumps(reply.blocks, ensure_ascii=False)
        assert not [n for n in others if n in text or n.split()[0] in text], (user, q, text)
        if reply.answer is not None:
            assert not [r for r in reply.answer.breakdown or []
                        if r["value"] is not None and r["key"] not in ("me",) and reply.answer.by == "rep"], (q, text)


class _Client:
    """A stand-in Slack client that keeps what would be posted."""

    def __init__(self):
        self.posted: list[dict] = []

    def chat_postMessage(self, **kw):  # noqa: N802 (Slack's name)
        self.posted.append(kw)
        return {"ok": True, "ts": "1.0"}

    def chat_postEphemeral(self, **kw):  # noqa: N802
        self.posted.append({**kw, "ephemeral": True})
        return {"ok": True}


def test_share_pressed_by_a_rep_on_a_managers_question_posts_only_what_the_rep_sees(store, tmp_path):
    """A Share button's value carries the question: a rep who sends the value of the manager's answer
    (`revenue by rep … team:ent`, every ent rep's line) gets the channel the rep's own answer."""
    from dataclasses import replace

    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1) + 3, "2026-11-10")
    deps = _company(store, tmp_path, book)
    client = _Client()
    deps = replace(deps, client=client, clock=lambda: AS_OF)
    q = "revenue by rep this month team:ent"
    mgr = _answer(deps, q, MGR)
    lines = {r["key"]: r["value"] for r in mgr.breakdown if r["value"] is not None}
    assert {"ra", "rb", "rc"} <= set(lines)  # the manager's answer shows his reps' lines
    value = sharing.encode(q, AS_OF, "mgranswer000001")
    body = {"user": {"id": ME}, "channel": {"id": "C0SALES"}, "actions": [{"value": value}], "response_url": None}
    flows.share(deps, body, "req-probe4")
    public = [p for p in client.posted if not p.get("ephemeral")]
    assert public, client.posted
    text = json.dumps(public, ensure_ascii=False)
    others = {r: v for r, v in lines.items() if r != "me"}
    names = [n for r, n, *_ in REPS if r in others]
    assert not [n for n in names if n in text], text
    assert not [v for v in others.values() if f"{v:,.0f}" in text], text


def test_thai_breakdown_of_a_narrow_region_hides_it_and_its_complement(store, tmp_path):
    """`ยอดขาย แยกตามภาค ทีม smb เดือนที่แล้ว`: October in smb/north was re's alone; the Thai question hides
    the same rows as the English one, and the team total minus the shown rows gives nothing away."""
    deps, hidden = _october_of_one_rep(store, tmp_path)
    for user in (ME, MGR, NOBODY):
        for q in ("ยอดขาย แยกตามภาค ทีม smb เดือนที่แล้ว", "ยอดขาย เดือนที่แล้ว ทีม smb ภาคเหนือ",
                  "ยอดขายเดือนที่แล้ว ทีมเอสเอ็มบี"):
            reply = answers.answer_question(deps, q, user, AS_OF)
            if reply.kind != "answer":
                continue
            a = reply.answer
            shown = [r["value"] for r in a.breakdown or [] if r["value"] is not None]
            learned = [a.value if a.by is None else None, *shown, _minus(a.value, *shown) if a.by else None]
            assert not _found(learned, hidden), (user, q, a.to_json())
            assert not [r for r in a.breakdown or [] if r.get("hidden") and "ซ่อน" not in r["hidden"]], a.breakdown
