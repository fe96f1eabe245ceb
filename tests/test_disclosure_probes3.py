"""Disclosure probes, third round: surfaces and question forms the first two rounds (test_disclosure_leaks.py,
test_disclosure_probes2.py) did not try: spend and ratio KPIs whose parts have no disclosure source of
their own, an average's median beside its mean, a team target built from rep quotas, the personal
digest's pacing, team lines and open alerts, rankings cut at n, explicit comparison periods, the Home
tab, `kpibot ask --user … --json`, account-level filters, a trend against its span, a manager's `by rep`.

Same method as probes2 (its Book, company and helpers are reused): a small hand-made company loaded into a
real SQLite store, the question asked as the person would be answered in Slack, the hidden figure worked
out from the numbers that person is shown, and compared with the figure as the head of sales reads it.
A test passes when there is no leak; the seven leaks this round found are closed (README, docs/access.md).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import answers
from config.access_models import AccessConfig
from config.app_config import AppConfig
from kpi_engine import format as fmt
from kpi_engine.engine import KpiEngine
from tests.fixtures import load
from tests.test_disclosure_probes2 import (
    ALL,
    AS_OF,
    HEAD,
    ME,
    MGR,
    NOBODY,
    REPS,
    Book,
    _answer,
    _deps,
    _hidden_from,
    _minus,
    _numbers,
    _truth,
    _value,
)

# SQLite only: every probe is about what the rule lets through, not about the backend
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

BKK = ZoneInfo("Asia/Bangkok")
DEC7 = datetime(2026, 12, 7, 9, 0, tzinfo=BKK)  # a Monday: last week is 30 Nov – 6 Dec, the month began on the 1st


class Book3(Book):
    """probes2's Book with accounts, leads, spend, surveys and targets of the test's choosing."""

    def __init__(self):
        super().__init__()
        self.accounts: dict[str, tuple[str, str]] = {"a1": ("smb", "bkk")}
        self.leads: list[dict] = []
        self.spend: list[dict] = []
        self.surveys: list[dict] = []
        self.targets: list[dict] = []

    def deal(self, rep: str, amount: float, closed: str, created: str | None = None, product: str = "X",
             account: str = "a1") -> str:
        oid = self.won(rep, amount, closed, created, product)
        self.opps[-1]["account_id"] = account
        return oid

    def lead(self, rep: str, created: str, channel: str = "social", qualified: str | None = None) -> None:
        row = {"lead_id": f"L{len(self.leads) + 1}", "created_at": created, "channel": channel, "owner_rep_id": rep}
        if qualified:
            row["qualified_at"] = qualified
        self.leads.append(row)

    def survey(self, rep: str, day: str, score: int) -> None:
        self.surveys.append({"response_id": f"s{len(self.surveys) + 1}", "responded_at": day, "score": str(score),
                             "account_id": "a1", "rep_id": rep})

    def tables(self) -> dict[str, list[dict]]:
        out = super().tables()
        out["accounts"] = [{"account_id": a, "segment": s, "region": g} for a, (s, g) in self.accounts.items()]
        if self.leads:
            out["leads"] = self.leads
        for name in ("spend", "surveys", "targets"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


def _company(store, tmp_path, book: Book, unlisted: str = "company", **config_kw):
    load(store, tmp_path / "csv", book.tables())
    if not config_kw:
        return _deps(store, unlisted)
    from bot.deps import BotDeps
    from bot.lang import LanguageResolver

    config = AppConfig(access=AccessConfig(full=[HEAD], min_reps=3, unlisted=unlisted), **config_kw)
    return BotDeps(KpiEngine(store, config), config, None, lambda: AS_OF, LanguageResolver(config, None),
                   spark_periods=4)


def _answer_at(deps, q: str, user: str, as_of: datetime):
    reply = answers.answer_question(deps, q, user, as_of)
    assert reply.kind == "answer" and reply.answer is not None, (user, q, reply.kind, reply.text)
    return reply.answer


def _found(learned, hidden: float, rel: float = 1e-6) -> list[float]:
    return [x for x in learned if x is not None and math.isclose(x, hidden, rel_tol=rel, abs_tol=1e-6)]


def _digest(deps, user: str, as_of: datetime, ops=None, **sub):
    from bot.access import digest_audience
    from config.schedule_models import DigestConfig
    from schedules.digest import build_digest

    eng, config = deps.engine, deps.config
    return build_digest(eng, ops, config, DigestConfig(**sub), as_of, chart=False,
                        audience=digest_audience(eng, config, user, "en"))


# ------------------------------------------------------------------ leaks found (strict xfails)


def test_cost_per_lead_does_not_give_away_one_reps_leads(store, tmp_path):
    book = Book3()
    for rep in ALL:
        book.lead(rep, "2026-11-05")
    for day in ("2026-11-06", "2026-11-07", "2026-11-08"):
        book.lead("rh", day, channel="referral")  # the only referral leads: rh's
    book.spend += [{"date": "2026-11-01", "channel": "referral", "category": "marketing", "amount": "3300",
                    "period": "month"},
                   {"date": "2026-11-01", "channel": "social", "category": "marketing", "amount": "6000",
                    "period": "month"}]
    deps = _company(store, tmp_path, book)
    hidden = _truth(deps, "lead volume this month channel:referral")
    assert hidden == 3 and _truth(deps, "lead volume this month channel:referral rep:rh") == hidden
    leaks = {}
    for user in (ME, MGR, NOBODY):
        _hidden_from(deps, "lead volume this month channel:referral", user)  # hidden when asked
        a = _answer(deps, "cost per lead this month channel:referral", user)
        learned = [a.n, (a.details or {}).get("leads")]
        if a.value and (a.details or {}).get("marketing_spend"):
            learned.append(a.details["marketing_spend"] / a.value)
        if _found(learned, hidden):
            leaks[user] = a.to_json()
    assert not leaks, leaks


def _lead_conversion(book: Book3):
    # smb/north: re, rf, rg each have two leads this month; only rf's were qualified (before as_of)
    for rep in ALL:
        book.lead(rep, "2026-11-03")
        book.lead(rep, "2026-11-04", qualified=None if rep in ("re", "rg") else "2026-11-20")
    for day in ("2026-11-05", "2026-11-06", "2026-11-07"):
        book.lead("rf", day, qualified="2026-11-21")  # rf: four qualified leads
    q = "lead conversion this month team:smb region:north"
    return (q, lambda a: [(a.details or {}).get("qualified"), None if a.value is None or not a.n else a.value * a.n],
            "lead conversion this month rep:rf", lambda h: h.details["qualified"])


def _csat(book: Book3):
    # smb/north: re, rf, rg each answered by two customers; only rf's were good (score 4 or 5)
    for rep in ALL:
        for day in ("2026-11-03", "2026-11-04"):
            book.survey(rep, day, 5 if rep not in ("re", "rg") else 2)
    q = "csat this month team:smb region:north"
    return (q, lambda a: [None if a.value is None or not a.n else a.value * a.n],
            "csat this month rep:rf", lambda h: h.value * h.n)


@pytest.mark.parametrize("setup", [_lead_conversion, _csat], ids=["lead_conversion", "csat"])
def test_a_ratios_numerator_of_one_rep_is_not_shown_with_its_sample_size(store, tmp_path, setup):
    book = Book3()
    q, learn, truth_q, truth = setup(book)
    deps = _company(store, tmp_path, book)
    hidden = truth(_answer(deps, truth_q, HEAD))
    assert answers.answer_question(deps, truth_q, ME, AS_OF).kind == "denied"
    a = _answer(deps, q, ME)  # covers re, rf and rg, but its numerator is rf's alone
    assert not _found(learn(a) if a.value is not None else list(_numbers(a.to_json())), hidden), a.to_json()


def test_an_averages_median_does_not_give_away_one_reps_deal(store, tmp_path):
    book = Book3()
    for rep, days in (("me", 5), ("ra", 11), ("rb", 23)):
        book.deal(rep, 1000, "2026-11-25", created=f"2026-11-{25 - days:02d}")
    for rep in ("rc", "rd", "rk", "re", "rf", "rg"):
        book.deal(rep, 1000, "2026-11-20", created="2026-11-02")
    deps = _company(store, tmp_path, book)
    ra, rb = _truth(deps, "sales cycle this month rep:ra"), _truth(deps, "sales cycle this month rep:rb")
    mine = _value(deps, "sales cycle this month rep:me", ME)
    a = _answer(deps, "sales cycle this month team:ent region:bkk", ME)
    assert a.value is not None and a.n == 3
    median = a.details.get("median_days")
    learned = [median, _minus(a.value * a.n, mine, median)]
    assert not (_found(learned, ra, 1e-4) or _found(learned, rb, 1e-4)), (a.to_json(), ra, rb)


def test_a_team_target_does_not_give_away_one_reps_quota(store, tmp_path):
    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10")
    book.targets += [{"period": "2026-11", "metric": "revenue", "value": "5000", "rep_id": "rh"},
                     {"period": "2026-11", "metric": "revenue", "value": "7000", "rep_id": "me"}]
    deps = _company(store, tmp_path, book)
    head = _answer(deps, "revenue this month rep:rh", HEAD)
    hidden = head.target["value"]
    leaks = {}
    for user in (ME, MGR):
        assert answers.answer_question(deps, "revenue this month rep:rh", user, AS_OF).kind == "denied"
        learned = []
        for q in ("revenue this month team:smb", "target attainment this month team:smb"):
            a = _answer(deps, q, user)
            learned += [(a.target or {}).get("value"), (a.details or {}).get("target")]
            att = (a.target or {}).get("attainment")
            if a.value and att:
                learned.append(a.value / att)
        if _found(learned, hidden):
            leaks[user] = learned
    assert not leaks, leaks


def _early_december(book: Book3) -> None:
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-30")  # last week's Monday: everyone
    book.won("rh", 777, "2026-12-02")  # the month so far: rh alone
    book.targets += [{"period": "2026-12", "metric": "revenue", "value": "31000"},
                     {"period": "2026-12", "metric": "revenue", "value": "15500", "team": "smb"},
                     {"period": "2026-12", "metric": "revenue", "value": "15500", "team": "ent"}]


@pytest.mark.parametrize("unlisted", ["company", "totals"])
def test_a_personal_digests_pacing_does_not_give_away_a_narrow_month_to_date(store, tmp_path, unlisted):
    book = Book3()
    _early_december(book)
    deps = _company(store, tmp_path, book, unlisted=unlisted)
    pace_at = DEC7.replace(hour=0)
    a = _answer_at(deps, "revenue this month", NOBODY, pace_at)
    assert a.value is None and a.extra["hidden"]["value"]
    hidden = _answer_at(deps, "revenue this month", HEAD, pace_at).value
    assert hidden == 777
    d = _digest(deps, NOBODY, DEC7, kpis=["revenue"])
    learned = []
    for p in d.pacing:
        learned += [p.value, None if p.attainment is None or p.target is None else p.attainment * p.target,
                    None if p.projection is None else p.projection * p.elapsed]
    assert not _found(learned, hidden, 1e-3), d.pacing


def test_a_personal_digests_team_lines_do_not_give_away_a_narrow_attainment(store, tmp_path):
    book = Book3()
    _early_december(book)
    deps = _company(store, tmp_path, book, unlisted="totals")
    pace_at = DEC7.replace(hour=0)
    hidden_q = "target attainment this month team:smb"
    a = _answer_at(deps, hidden_q, NOBODY, pace_at)
    assert a.value is None and a.extra["hidden"]["value"]
    hidden = _answer_at(deps, hidden_q, HEAD, pace_at).value
    d = _digest(deps, NOBODY, DEC7, kpis=["revenue"])
    smb = next(t for t in d.teams if t.team == "smb")
    assert smb.value is not None  # last week smb covers six reps: shown
    assert not _found([smb.attainment], hidden, 1e-3), smb


def test_a_personal_digests_open_alerts_do_not_give_away_a_narrow_value(store, tmp_path):
    from config.schedule_models import AlertsConfig
    from kpi_engine.ops import OpsStore
    from schedules.alerts import run_alerts

    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10", product="Z" if rep == "rh" else "X")
    rules = [{"id": "rev_z", "name": "Revenue Z", "kpi": "revenue", "grain": "month", "period": "to_date",
              "filter": {"product": "Z"}, "conditions": [{"type": "threshold", "below": 1_000_000_000}]}]
    deps = _company(store, tmp_path, book, alerts=AlertsConfig(channel="C0ALERTS", rules=rules))
    hidden = _hidden_from(deps, "revenue this month product:Z", NOBODY)
    assert hidden == _truth(deps, "revenue this month rep:rh")
    ops = OpsStore(deps.engine.store)
    run_alerts(deps.engine, ops, deps.config, AS_OF, explain=False)
    assert [a.rule_id for a in ops.open_alerts(as_of=int(AS_OF.timestamp()))] == ["rev_z"], "the rule fired"
    d = _digest(deps, NOBODY, AS_OF, ops=ops, kpis=["revenue"])
    assert not _found([x.value for x in d.alerts], hidden), d.alerts
    head = _digest(deps, HEAD, AS_OF, ops=ops, kpis=["revenue"])
    assert _found([x.value for x in head.alerts], hidden)  # the head of sales still reads it


# ------------------------------------------------------------------ kinds tried that hold


def test_rankings_cut_at_n_and_n_plus_one_show_no_hidden_row(store, tmp_path):
    """top 1…4 and bottom 1…4 of the same breakdown (the n+1-th row is in one and not the other), with
    ties, rows_total, and the total minus every row any of them shows."""
    book = Book3()
    for i, rep in enumerate(ALL):
        product = "Z" if rep == "rh" else ("Y" if rep in ("re", "rf", "rg") else "X")
        book.won(rep, 100 * (i + 1), "2026-11-10", product=product)
    book.won("ra", 1800 + 1900 + 2000 - 200 - 300, "2026-11-11", product="W")  # W ties Y
    book.won("rb", 100, "2026-11-11", product="W")
    book.won("rc", 100, "2026-11-11", product="W")
    deps = _company(store, tmp_path, book)
    hidden = _hidden_from(deps, "revenue this month product:Z", ME)
    assert hidden == _truth(deps, "revenue this month rep:rh")
    for user in (ME, MGR, NOBODY):
        shown: dict[str, float] = {}
        total = None
        for order in ("top", "bottom"):
            for n in (1, 2, 3, 4, 5):
                a = _answer(deps, f"{order} {n} products by revenue this month", user)
                total = a.value
                for r in a.breakdown or []:
                    if r["value"] is not None:
                        shown[r["key"]] = r["value"]
                    else:
                        assert r.get("hidden"), (user, order, n, r)
                assert a.rows_total is None or a.rows_total >= len(a.breakdown or [])
        assert "Z" not in shown, (user, shown)
        learned = [*shown.values(), _minus(total, *shown.values())]
        assert not _found(learned, hidden), (user, shown, total)


def test_explicit_comparison_periods_do_not_give_away_a_narrow_base(store, tmp_path):
    """`vs 2026-10`, `vs last year`: the comparison value, the change (relative or in points) and revenue
    growth beside the current value, when the period compared with is one rep's."""
    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10")
        book.won(rep, 50 * (i + 1), "2026-11-12")
        if rep not in ("rf", "rg"):  # October in smb/north: re alone
            book.won(rep, 10 * (i + 1), "2026-10-10")
        if rep not in ("re", "rg"):  # November 2025 in smb/north: rf alone
            book.won(rep, 7 * (i + 1), "2025-11-10")
        book.lost(rep, "2026-11-14")
    book.lost("re", "2026-10-14")
    deps = _company(store, tmp_path, book)
    cell = "team:smb region:north"
    for vs, base in (("vs 2026-10", "2026-10"), ("vs last year", "2025-11")):
        for kpi in ("revenue", "deals closed", "avg deal size", "win rate"):
            hidden = _hidden_from(deps, f"{kpi} {base} {cell}", ME)
            a = _answer(deps, f"{kpi} this month {cell} {vs}", ME)
            assert a.value is not None
            c = a.comparison
            learned = [c.value]
            if c.change is not None:
                learned.append(a.value - c.change if c.change_kind == "points" else a.value / (1 + c.change))
            assert not _found(learned, hidden), (kpi, vs, a.to_json())
        hidden = _hidden_from(deps, f"revenue {base} {cell}", ME)
        g = _answer(deps, f"revenue growth this month {cell} {vs}", ME)
        now = _value(deps, f"revenue this month {cell}", ME)
        learned = list(_numbers(g.to_json().get("details")))
        if g.value is not None and now is not None and g.value != -1:
            learned.append(now / (1 + g.value))
        assert not _found(learned, hidden), (vs, g.to_json())


def test_the_home_tab_shows_no_change_against_a_narrow_month(store, tmp_path):
    """The Home tab of someone not linked (company totals) and of a rep: this month's change against a
    last month that was one rep's."""
    from bot.home import home_view

    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1), "2026-11-10")
    book.won("rh", 4321, "2026-10-10")  # October: rh alone in the whole company
    deps = _company(store, tmp_path, book)
    hidden = _hidden_from(deps, "revenue last month", NOBODY)
    head = _answer(deps, "revenue this month", HEAD)
    assert head.comparison.value == hidden and head.comparison.change is not None
    giveaways = [fmt.value(hidden, "currency", "THB", "en"),
                 fmt.change(head.comparison.change, head.comparison.change_kind, "en")]
    for user in (NOBODY, ME, MGR):
        text = json.dumps(home_view(deps, user, AS_OF), ensure_ascii=False)
        assert not [g for g in giveaways if g in text], (user, giveaways)


def test_kpibot_ask_json_as_a_user_carries_no_hidden_number_or_name(store, store_url, tmp_path, monkeypatch):
    """`kpibot ask --user <id> --json`: every number anywhere in it (details, hidden metadata, rows_total,
    the reading) and every label, for a rep and for someone not linked."""
    from typer.testing import CliRunner

    from config.settings import get_settings
    from kpi_engine.config_check import _cached
    from kpibot.cli import app

    book = Book3()
    for i, rep in enumerate(ALL):
        if rep not in ("rd", "rk"):
            book.won(rep, 100 * (i + 1) + 7, "2026-11-10")  # ent/north: rc alone
    load(store, tmp_path / "csv", book.tables())
    cfg = tmp_path / "kpibot.toml"
    cfg.write_text(f'[access]\nfull = ["{HEAD}"]\nmin_reps = 3\n', encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("KPIBOT_CONFIG", str(cfg))
    get_settings.cache_clear()
    _cached.cache_clear()
    try:
        runner = CliRunner()

        def ask(q: str, user: str) -> dict | None:
            r = runner.invoke(app, ["ask", *q.split(), "--user", user, "--as-of", "2026-11-30T09:00:00+07:00",
                                    "--json"])
            if r.exit_code != 0:
                return None  # refused: says nothing
            return json.loads(r.stdout)

        head = ask("revenue this month team:ent region:north", HEAD)
        assert head is not None and head["value"] is not None
        hidden = head["value"]
        assert hidden == _truth(_deps(store), "revenue this month rep:rc")
        others = [n for r, n, *_ in REPS if r != "me"]
        for user in (ME, NOBODY):
            answered = 0
            for q in ("revenue this month team:ent region:north", "revenue by region this month team:ent",
                      "revenue by rep this month", "top 3 reps by revenue this month",
                      "bottom 2 regions by revenue this month team:ent", "avg deal size by region this month team:ent",
                      "revenue per rep by region this month team:ent", "revenue growth this month team:ent region:north",
                      "deals closed by team this month region:north"):
                out = ask(q, user)
                if out is None:
                    continue
                answered += 1
                assert not _found(_numbers(out), hidden), (user, q, out)
                text = json.dumps(out, ensure_ascii=False)
                assert not [n for n in others if n in text], (user, q)
            assert answered >= 3, user
    finally:
        get_settings.cache_clear()
        _cached.cache_clear()


def test_account_level_filters_on_one_reps_customers_are_hidden(store, tmp_path):
    """segment: (an account's) that selects one rep's customers, alone, with team/region, beside oneself
    (rep:me), as a breakdown and through the KPIs that share its won deals."""
    book = Book3()
    book.accounts.update({"a2": ("enterprise", "north"), "a3": ("mid", "north")})
    for i, rep in enumerate(ALL):
        book.deal(rep, 100 * (i + 1), "2026-11-10", account="a3" if rep in ("me", "ri") else "a1")
    book.deal("rh", 999, "2026-11-12", account="a2")  # the only enterprise customer is rh's
    deps = _company(store, tmp_path, book)
    hidden = _hidden_from(deps, "revenue this month segment:enterprise", ME)
    assert hidden == 999
    for user in (ME, MGR, NOBODY):
        learned = []
        for q in ("revenue this month segment:enterprise", "revenue this month segment:enterprise team:smb",
                  "revenue this month segment:enterprise region:bkk", "avg deal size this month segment:enterprise",
                  "deals closed this month segment:enterprise", "revenue growth this month segment:enterprise"):
            a = _answer(deps, q, user)
            learned += [a.value, *_numbers(a.to_json().get("details"))]
        for q in ("revenue by segment this month", "revenue by segment this month team:smb",
                  "avg deal size by segment this month"):
            a = _answer(deps, q, user)
            rows = {r["key"]: r["value"] for r in a.breakdown}
            learned += [rows.get("enterprise")]
            if q.startswith("revenue"):
                learned.append(_minus(a.value, *[v for k, v in rows.items() if k != "enterprise"]))
        learned += [_minus(_value(deps, "revenue this month", user), _value(deps, "revenue this month segment:smb", user))]
        assert not _found(learned, hidden), (user, learned)
    # a rep's own figure for a segment beside the segment's: the rest is ri's alone (only me and ri sell to "mid")
    mine = _value(deps, "revenue this month rep:me segment:mid", ME)
    assert mine is not None
    ri = _truth(deps, "revenue this month rep:ri")
    learned = [_minus(_value(deps, "revenue this month segment:mid", ME), mine)]
    rows = {r["key"]: r["value"] for r in _answer(deps, "revenue by segment this month team:smb", ME).breakdown}
    learned.append(rows.get("mid"))
    assert not _found(learned, ri), learned


def test_a_trend_against_the_total_of_its_span_gives_no_point_away(store, tmp_path):
    """The sparkline (4 months) and a within-year trend of a filtered question with one narrow month,
    against the totals of the spans they cover (asked as a day range, and year to date)."""
    book = Book3()
    for i, rep in enumerate(ALL):
        for month in ("08", "09", "11"):
            book.won(rep, 100 * (i + 1) + int(month), f"2026-{month}-10")
        if rep not in ("rf", "rg"):  # October in smb/north: re alone
            book.won(rep, 10 * (i + 1), "2026-10-10")
    deps = _company(store, tmp_path, book)
    cell = "team:smb region:north"
    hidden = _hidden_from(deps, f"revenue 2026-10 {cell}", ME)
    for q, span in ((f"revenue this month {cell}", f"revenue 2026-08-01 to 2026-11-30 {cell}"),
                    (f"monthly revenue this year {cell}", f"revenue ytd {cell}")):
        reply = answers.answer_question(deps, q, ME, AS_OF)
        series = deps.engine.series(reply.plan.query, AS_OF, n=4, clearance=reply.plan.clearance)
        shown = [v for _, v in series if v is not None]
        total = _value(deps, span, ME)
        assert shown and total is not None, (q, series, total)
        learned = [*shown, _minus(total, *shown)]
        assert not _found(learned, hidden), (q, series, total)


def test_a_managers_by_rep_never_reaches_another_team(store, tmp_path):
    """ent's manager asking `by rep` with another team's filters, a region, a product, a ranking and
    rep: of another team; the rows and totals shown cover their reps only or pass the rule."""
    book = Book3()
    for i, rep in enumerate(ALL):
        book.won(rep, 100 * (i + 1) + 3, "2026-11-10", product="Z" if rep == "rh" else "X")
    deps = _company(store, tmp_path, book)
    smb = {r for r, _, t, *_ in REPS if t == "smb"}
    hidden = {r: _truth(deps, f"revenue this month rep:{r}") for r in smb}
    answered = 0
    for q in ("revenue by rep this month team:smb", "revenue by rep this month region:north",
              "top 3 reps by revenue this month product:Z", "bottom 3 reps by revenue this month",
              "revenue by rep this month rep:rh", "deals closed by rep this month region:bkk",
              "revenue this month rep:rh", "revenue by rep this month product:Z"):
        reply = answers.answer_question(deps, q, MGR, AS_OF)
        if reply.kind == "denied":
            continue
        assert reply.kind == "answer", (q, reply.text)
        answered += 1
        a = reply.answer
        assert not {r["key"] for r in a.breakdown or [] if r["value"] is not None} & smb, (q, a.breakdown)
        learned = [a.value, *[r["value"] for r in a.breakdown or []]]
        assert not [r for r, v in hidden.items() if _found(learned, v)], (q, a.to_json())
    assert answered >= 4
