"""No one is shown a number the disclosure rule forbids: generated questions × roles on the demo company.

The rule (docs/access.md) is checked here independently of kpi_engine/disclosure.py: which reps a
number covers is worked out with pandas from the raw rows of the demo company (the KPI's rows in the
period, the cell's filters and breakdown key; the reps its rep filters select when it has no rows),
and every number a person is shown — the answer's value, the comparison, each breakdown row, each
trend point — must be

- of reps all visible to them, or of at least k reps of which at least two they cannot see;
- for someone who sees company totals only: a number narrowed by no team, region or rep;
- together with the other numbers of the response, no way to a hidden cell: when the total is shown,
  the hidden rows of its breakdown together pass the rule (total minus the shown rows);
- and for a filtered total, the same against its parent total and its siblings, asked as further
  questions (a team total minus its shown regions).

Nothing the person reads names a rep they may not see (did-you-mean, refusals, rows).

KPIBOT_LEAK_PROBES sets how many questions (default small enough for CI); each backend reports its
figures (probes, leaks, seconds) on stdout (`pytest -s`).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import answers
from bot.deps import BotDeps
from bot.lang import LanguageResolver
from config.access_models import AccessConfig
from config.app_config import AppConfig
from kpi_engine import demo
from kpi_engine import format as fmt
from kpi_engine.engine import KpiEngine

PROBES = int(os.environ.get("KPIBOT_LEAK_PROBES", "150"))
K = 3
ANCHOR = date(2026, 11, 30)
AS_OF = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Bangkok"))

# KPIs whose rows the oracle reads: (table, time column, extra condition) as kpis.md defines them
KPIS = {
    "revenue": ("opp", "closed_at", "won"),
    "deals_closed": ("opp", "closed_at", "won"),
    "avg_deal_size": ("opp", "closed_at", "won"),
    "sales_cycle": ("opp", "closed_at", "won"),
    "revenue_per_rep": ("opp", "closed_at", "won"),
    "time_to_close": ("opp", "closed_at", "won_with_lead"),  # from the lead's creation: deals with a lead
    "win_rate": ("opp", "closed_at", "closed"),
    "lead_volume": ("leads", "created_at", None),
    "lead_conversion": ("leads", "created_at", None),
    "rep_activity": ("activities", "occurred_at", None),
    "content_engagement": ("content_events", "occurred_at", None),
    "csat": ("surveys", "responded_at", None),
    "training_effectiveness": ("trainings", "held_on", None),
    "aov": (None, None, None),  # customers' orders: no rep behind them
}
PERIODS = [("this month", "เดือนนี้"), ("last month", "เดือนที่แล้ว"), ("this quarter", "ไตรมาสนี้"),
           ("last quarter", "ไตรมาสที่แล้ว"), ("this year", "ปีนี้"), ("last year", "ปีที่แล้ว"),
           ("last week", "สัปดาห์ที่แล้ว"), ("2026-Q2", "2026-Q2")]
REP_ATTRS = ("rep", "team", "region")


@dataclass
class Role:
    name: str
    user: str
    visible: frozenset[str] | None  # None: every rep
    company_only: bool = False


@dataclass
class Tally:
    probes: int = 0
    numbers: int = 0
    hidden: int = 0
    leaks: list[str] = field(default_factory=list)


class Oracle:
    """The disclosure rule from the raw rows, with pandas: nothing of kpi_engine.disclosure."""

    def __init__(self, store):
        with store.connect() as c:
            read = lambda sql: pd.read_sql_query(sql, c)  # noqa: E731
            self.reps = read("SELECT rep_id, team, region, name, name_th, slack_user_id, role FROM reps")
            acc = read("SELECT account_id, segment, region AS acc_region FROM accounts")
            leads = read("SELECT lead_id, owner_rep_id AS rep, created_at, channel FROM leads")
            opp = read("SELECT owner_rep_id AS rep, status, closed_at, product, account_id, lead_id FROM opportunities")
            self.t = {
                "opp": opp.merge(acc, on="account_id", how="left")
                          .merge(leads[["lead_id", "channel"]].assign(has_lead=True), on="lead_id", how="left")
                .assign(has_lead=lambda d: d["has_lead"].eq(True)),
                "leads": leads,
                "activities": read("SELECT rep_id AS rep, occurred_at, type FROM activities"),
                "content_events": read("SELECT rep_id AS rep, occurred_at, action FROM content_events"),
                "surveys": read("SELECT rep_id AS rep, responded_at, account_id FROM surveys")
                .merge(acc, on="account_id", how="left"),
                "trainings": read("SELECT rep_id AS rep, held_on FROM trainings"),
            }
        attrs = self.reps.set_index("rep_id")[["team", "region"]]
        for name, df in self.t.items():
            df = df.join(attrs, on="rep")
            df["rep_id"] = df["rep"]
            self.t[name] = df
        # each table sorted by each time column the KPIs read, so a period is a slice (searchsorted)
        self.by_time = {}
        for table, col, _ in KPIS.values():
            if table and (table, col) not in self.by_time:
                df = self.t[table].dropna(subset=[col]).sort_values(col).reset_index(drop=True)
                self.by_time[(table, col)] = (df, df[col].to_numpy())

    def covered(self, kpi: str, start: int, end: int, cell: dict[str, str]) -> set[str]:
        table, col, cond = KPIS[kpi]
        if table is None:
            return set()
        df, times = self.by_time[(table, col)]
        df = df.iloc[times.searchsorted(start, "left"):times.searchsorted(end, "left")]
        m = df["rep"].notna()
        if cond == "won":
            m &= df["status"] == "won"
        elif cond == "won_with_lead":
            m &= (df["status"] == "won") & df["has_lead"]
        elif cond == "closed":
            m &= df["status"].isin(["won", "lost"])
        for dim, v in cell.items():
            m &= df[dim].astype(str) == str(v)
        got = set(df.loc[m, "rep"].astype(str))
        if got:
            return got
        p = pd.Series(True, index=self.reps.index)
        for dim, v in cell.items():
            if dim in REP_ATTRS:
                p &= self.reps["rep_id" if dim == "rep" else dim].astype(str) == str(v)
        return set(self.reps.loc[p, "rep_id"])

    @staticmethod
    def safe(role: Role, reps: set[str]) -> bool:
        if role.visible is None:
            return True
        hidden = reps - role.visible
        return not hidden or (len(reps) >= K and len(hidden) >= 2)

    def narrowed(self, kpi: str, cell: dict[str, str]) -> bool:
        return KPIS[kpi][0] is not None and any(d in REP_ATTRS for d in cell)

    def ok(self, role: Role, kpi: str, start: int, end: int, cell: dict[str, str]) -> bool:
        if role.company_only:
            return not self.narrowed(kpi, cell)
        return self.safe(role, self.covered(kpi, start, end, cell))


@pytest.fixture
def demo_company(store):
    demo.generate(store, seed=7, scale="small", anchor=ANCHOR)
    return store


def _roles(oracle: Oracle) -> list[Role]:
    r = oracle.reps
    somchai = r.loc[r.slack_user_id == "U0SOMCHAI", "rep_id"].item()
    ent = frozenset(r.loc[r.team == "enterprise", "rep_id"])
    # a rep of a small team and region as well, where single-rep cells abound
    other = r[(r.team == "partners") & r.slack_user_id.notna() & (r.role == "rep")].iloc[0]
    return [Role("head", "U0ANNA", None), Role("manager", "U0MANAGER", ent),
            Role("rep", "U0SOMCHAI", frozenset({somchai})),
            Role("rep-partners", other.slack_user_id, frozenset({other.rep_id})),
            Role("unlinked", "U0NOBODY", frozenset(), company_only=True)]


def _values(oracle: Oracle, dim: str) -> list[str]:
    t = oracle.t
    col = {"rep": t["opp"]["rep"], "team": oracle.reps["team"], "region": oracle.reps["region"],
           "product": t["opp"]["product"], "segment": t["opp"]["segment"], "channel": t["leads"]["channel"],
           "type": t["activities"]["type"], "action": t["content_events"]["action"]}[dim]
    return sorted({str(x) for x in col.dropna() if str(x)})


def _question(kpi: str, spec, by: str | None, filters: dict[str, str], period: tuple[str, str], th: bool) -> str:
    name = spec.name_th if th else spec.name_en
    words = [name.lower() if not th else name]
    if by:
        words.append(f"แยกตาม{fmt.dimension(by, 'th')}" if th else f"by {by}")
    words.append(period[1] if th else period[0])
    words += [f"{d}:{v}" for d, v in filters.items()]
    return " ".join(words)


def _shown_text(reply) -> str:
    parts = [reply.text or ""]

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str):
            parts.append(x)

    walk(reply.blocks)
    return "\n".join(parts)


def _check(oracle: Oracle, deps: BotDeps, role: Role, text: str, tally: Tally, siblings: bool) -> None:
    reply = answers.answer_question(deps, text, role.user, AS_OF)
    tally.probes += 1
    where = f"{role.name}: {text!r}"
    # names on a need-to-know basis: nothing read names a rep this person may not see
    if role.visible is not None:
        shown = _shown_text(reply)
        for _, rep in oracle.reps.iterrows():
            if rep.rep_id in role.visible:
                continue
            for nm in (rep["name"], rep["name_th"]):
                if isinstance(nm, str) and len(nm) >= 5 and nm in shown:
                    tally.leaks.append(f"{where}: names hidden rep {nm}")
    if reply.kind != "answer" or reply.answer is None:
        return
    a = reply.answer
    kpi = a.spec.key
    cell = {d: v[0] for d, v in a.filters.items()}
    s, e = a.period.start_ts, min(a.period.end_ts, int(AS_OF.timestamp()))
    numbers: list[tuple[str, int, int, dict]] = []
    if a.value is not None:
        numbers.append(("value", s, e, cell))
    if a.comparison.value is not None:
        cp = a.comparison.period
        numbers.append(("comparison", cp.start_ts, min(cp.end_ts, int(AS_OF.timestamp())), cell))
    if a.target is not None and a.value is None and a.extra.get("hidden", {}).get("value"):
        tally.leaks.append(f"{where}: target of a hidden value")
    hidden_rows = []
    for r in a.breakdown or []:
        rc = {**cell, a.by: r["key"]}
        if r.get("hidden"):
            hidden_rows.append(rc)
            tally.hidden += 1
        elif r["value"] is not None:
            numbers.append((f"row {r['key']}", s, e, rc))
    for p, v in answers.trend_for(deps, reply.plan) or []:
        if v is not None:
            numbers.append((f"trend {p.label}", p.start_ts, min(p.end_ts, int(AS_OF.timestamp())), cell))
    tally.hidden += int(bool(a.extra.get("hidden", {}).get("value")))
    for label, ps, pe, c in numbers:
        tally.numbers += 1
        if not oracle.ok(role, kpi, ps, pe, c):
            tally.leaks.append(f"{where}: {label} shown, covers {sorted(oracle.covered(kpi, ps, pe, c))}")
    # total minus the shown rows = the hidden rows together
    if a.value is not None and hidden_rows and not role.company_only:
        union = set().union(*(oracle.covered(kpi, s, e, c) for c in hidden_rows))
        if not oracle.safe(role, union):
            tally.leaks.append(f"{where}: total minus shown rows gives {sorted(union)}")
    # a filtered total against its parent and its siblings, asked as questions of their own
    if siblings and a.value is not None and cell and not role.company_only:
        dim = sorted(cell)[0]
        parent_q = " ".join(w for w in text.split() if not w.startswith(f"{dim}:"))
        parent = answers.answer_question(deps, parent_q, role.user, AS_OF)
        tally.probes += 1
        if parent.kind == "answer" and parent.answer is not None and parent.answer.value is not None:
            hidden = []
            for v in _values(oracle, dim):
                if v == cell[dim]:
                    continue
                sib = answers.answer_question(deps, f"{parent_q} {dim}:{v}", role.user, AS_OF)
                tally.probes += 1
                if sib.kind != "answer" or sib.answer is None or sib.answer.value is None:
                    hidden.append({**cell, dim: v})
            union = set().union(*(oracle.covered(kpi, s, e, c) for c in hidden)) if hidden else set()
            if hidden and not oracle.safe(role, union):
                tally.leaks.append(f"{where}: parent minus shown siblings gives {sorted(union)}")


def test_no_number_breaks_the_disclosure_rule(demo_company, capsys):
    store = demo_company
    config = AppConfig(access=AccessConfig(full=["U0ANNA"], min_reps=K))
    engine = KpiEngine(store, config)
    deps = BotDeps(engine, config, None, lambda: AS_OF, LanguageResolver(config, None), spark_periods=4)
    oracle = Oracle(store)
    roles = _roles(oracle)
    domains = {d: _values(oracle, d) for d in ("rep", "team", "region", "product", "segment", "channel", "type",
                                               "action")}
    tally = Tally()

    @st.composite
    def probes(draw):
        role = draw(st.sampled_from(roles))
        kpi = draw(st.sampled_from(sorted(KPIS)))
        spec = engine.spec(kpi)
        by = draw(st.sampled_from([None, *spec.breakdowns]))
        dims = draw(st.lists(st.sampled_from(list(spec.filters)), unique=True, max_size=3)) if spec.filters else []
        filters = {d: draw(st.sampled_from(domains[d])) for d in dims if d != by and domains.get(d)}
        period = draw(st.sampled_from(PERIODS))
        th = draw(st.booleans())
        siblings = draw(st.integers(0, 9)) == 0  # the costly cross-question check on one probe in ten
        return role, _question(kpi, spec, by, filters, period, th), siblings

    @settings(max_examples=PROBES, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(probes())
    def probe(p):
        role, text, siblings = p
        before = len(tally.leaks)
        _check(oracle, deps, role, text, tally, siblings)
        for leak in tally.leaks[before:]:  # at once: a long run may be stopped before it ends
            with capsys.disabled():
                print(f"\n[leak] {store.url.get_backend_name()} {leak}", flush=True)
        if tally.probes // 1000 > progress[0]:  # a long run says how far it got
            progress[0] = tally.probes // 1000
            with capsys.disabled():
                print(f"\n[leak probes] {store.url.get_backend_name()} {tally.probes} questions, "
                      f"{len(tally.leaks)} leaks, {time.perf_counter() - started:.0f} s", flush=True)

    progress = [0]

    started = time.perf_counter()
    probe()
    took = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[leak probes] backend={store.url.get_backend_name()} questions={tally.probes} "
              f"numbers checked={tally.numbers} hidden={tally.hidden} leaks={len(tally.leaks)} seconds={took:.1f}")
    assert not tally.leaks, "\n".join(tally.leaks[:20])
    assert tally.hidden > 0  # the rule did hide something: the probes reached small cells


def test_the_narrow_total_from_the_issue_is_hidden_for_a_rep_and_shown_to_the_head(demo_company):
    config = AppConfig(access=AccessConfig(full=["U0ANNA"], min_reps=K))
    deps = BotDeps(KpiEngine(demo_company, config), config, None, lambda: AS_OF, LanguageResolver(config, None),
                   spark_periods=0)
    q = "revenue this year team:enterprise region:northeast"
    rep = answers.answer_question(deps, q, "U0SOMCHAI", AS_OF)
    head = answers.answer_question(deps, q, "U0ANNA", AS_OF)
    assert head.answer.value and rep.answer.value is None
    assert "fewer than 3 reps" in _shown_text(rep)
    amount = fmt.value(head.answer.value, "currency", "THB", "en")
    assert amount not in _shown_text(rep)
    assert re.search(r"hidden", _shown_text(rep), re.IGNORECASE)


def test_protect_hides_a_complement_only_when_the_total_is_shown():
    from kpi_engine.disclosure import Clearance, protect

    cl = Clearance(frozenset({"me"}), k=3)
    assert cl.safe({"me"}) and cl.safe({"me", "a", "b"}) and not cl.safe({"a"}) and not cl.safe({"me", "a"})
    assert not cl.safe({"a", "b"}) and not cl.safe({"me", "x", "a"} - {"x"})
    cells = {"north": {"a"}, "south": {"b", "c", "d"}, "east": {"e", "f", "g", "h"}, "west": {"me"}}
    # north alone would be total minus the rest: the smallest other cell (by reps, then key) goes with it
    assert protect(cells, cl) == {"north", "west", "south"}  # {a, me} is still unsafe, so south too
    assert protect(cells, cl, complement=False) == {"north"}
    assert protect({"x": {"a", "b", "c"}, "y": {"d", "e", "f"}}, cl) == set()
    assert Clearance(None).safe({"a"}) and Clearance(frozenset(), k=1).safe({"a"})


def test_siblings_the_kpi_lists_no_row_for_still_count_against_the_parent(demo_company):
    """Found by the leak test (1 in ~5,000 questions): Somchai's `by rep` is narrowed to his team, so
    he asks team:enterprise segment:mid-market region:east. No enterprise rep closed a mid-market deal
    this month, so `revenue by region` under that parent lists no row at all; but region:north and
    region:northeast (one rep each) are hidden when asked, and the parent (0) minus the shown regions
    gave those two reps away together. Every region he can name now counts in the pattern."""
    config = AppConfig(access=AccessConfig(full=["U0ANNA"], min_reps=K))
    deps = BotDeps(KpiEngine(demo_company, config), config, None, lambda: AS_OF, LanguageResolver(config, None),
                   spark_periods=0)
    oracle = Oracle(demo_company)
    roles = {r.name: r for r in _roles(oracle)}
    tally = Tally()
    _check(oracle, deps, roles["rep"], "revenue by rep this month region:east segment:mid-market", tally,
           siblings=True)
    assert tally.probes > 3 and not tally.leaks, tally.leaks
    # the complement that keeps north and northeast covered: Bangkok (his own region, five reps)
    q = "revenue this month team:enterprise region:bangkok segment:mid-market"
    assert answers.answer_question(deps, q, "U0SOMCHAI", AS_OF).answer.value is None
    assert answers.answer_question(deps, q, "U0ANNA", AS_OF).answer.value is not None
    # and the same pattern by the other route: the parent's breakdown by region hides no fewer
    parent = "revenue this month team:enterprise segment:mid-market"
    assert answers.answer_question(deps, parent, "U0SOMCHAI", AS_OF).answer.value is not None


def test_protect_counts_hidden_cells_in_every_view_value_or_not():
    from kpi_engine.disclosure import ABSENT, Clearance, protect

    cl = Clearance(frozenset({"me"}), k=3)
    # north and northeast have no row in the breakdown (listed: only bangkok) but can be asked for
    cells = {"bangkok": {"me", "c", "d"}, "north": {"a"}, "northeast": {"b"}, "east": set()}
    views = [{"bangkok"}, set(cells)]
    assert protect(cells, cl, views=views, fixed={"east"}) == {"north", "northeast", "bangkok"}
    # the old rule (only cells with a value add to the total) saw nothing to cover
    assert protect(cells, cl, adds={"bangkok"}) == {"north", "northeast"}
    # ABSENT (values with no rows) may be hidden, but never stands in for a real complement
    cells = {"x": {"a"}, ABSENT: {"me", "b", "c"}, "y": {"me", "d", "e"}}
    got = protect(cells, cl, views=[{"x", "y"}, set(cells)], fixed={ABSENT})
    assert got == {"x", "y"} and ABSENT not in got
    # a view that cannot be made safe hides the whole group
    assert protect({"x": {"a"}, "y": set()}, cl, views=[{"x", "y"}], fixed={"y"}) == {"x", "y"}
