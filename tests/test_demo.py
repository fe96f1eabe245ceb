"""The demo company: deterministic, consistent, and carrying the two planted problems.

The planted facts are recomputed here from the stored rows with pandas and plain sets,
straight from the kpis.md definitions, without the generator's or the engine's code.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from kpi_engine.demo import DemoError, generate, opportunity_count
from kpi_engine.models import TABLES

TZ = ZoneInfo("Asia/Bangkok")
ANCHOR = date(2026, 11, 23)  # a Monday: the spike week is the whole of 2026-W47
DAY = 86_400


def ts(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=TZ).timestamp())


def frame(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql_query(text(sql), conn)


def scalar(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def purchases(engine) -> pd.DataFrame:
    return frame(engine, "SELECT account_id, closed_at AS t FROM opportunities WHERE status = 'won' "
                         "UNION ALL SELECT account_id, ordered_at AS t FROM orders")


def test_same_seed_same_company_other_seed_another(store):
    won_sum = "SELECT sum(amount) FROM opportunities WHERE status = 'won'"
    first = generate(store, anchor=ANCHOR)
    first_won = scalar(store, won_sum)
    again = generate(store, anchor=ANCHOR, replace=True)
    assert again.counts == first.counts
    assert scalar(store, won_sum) == pytest.approx(first_won, rel=1e-12)
    assert (again.cac_spike_week, again.retention_drop_quarter, again.retention_dropped) == (
        first.cac_spike_week, first.retention_drop_quarter, first.retention_dropped)
    generate(store, seed=8, anchor=ANCHOR, replace=True)
    assert scalar(store, won_sum) != pytest.approx(first_won, rel=1e-6)


def test_every_table_filled_and_consistent(store):
    summary = generate(store, anchor=ANCHOR)
    for table in TABLES:
        n = scalar(store, f"SELECT count(*) FROM {table}")
        assert n > 0, table
        assert summary.counts[table] == n, table
    assert summary.counts["opportunities"] == 2_000
    assert summary.counts["leads"] == 6_000
    assert summary.start == date(2024, 11, 1) and summary.anchor == ANCHOR
    anchor_ts = ts(ANCHOR)

    reps = frame(store, "SELECT * FROM reps")
    opps = frame(store, "SELECT * FROM opportunities")
    leads = frame(store, "SELECT * FROM leads")
    accounts = set(frame(store, "SELECT account_id FROM accounts").account_id)
    rep_ids = set(reps.rep_id)
    assert set(opps.owner_rep_id) <= rep_ids
    assert set(leads.owner_rep_id.dropna()) <= rep_ids
    assert set(frame(store, "SELECT DISTINCT rep_id FROM activities").rep_id) <= rep_ids
    assert set(opps.account_id) <= accounts
    assert set(frame(store, "SELECT DISTINCT account_id FROM orders").account_id) <= accounts
    assert set(opps.lead_id.dropna()) <= set(leads.lead_id)
    assert set(frame(store, "SELECT DISTINCT opportunity_id FROM activities WHERE opportunity_id IS NOT NULL")
               .opportunity_id) <= set(opps.opportunity_id)
    assert 0.5 < opps.lead_id.notna().mean() < 0.9  # many deals from leads, some without

    # statuses, closing, amounts
    assert set(opps.status) == {"open", "won", "lost"}
    closed = opps[opps.status != "open"]
    assert closed.closed_at.notna().all() and opps[opps.status == "open"].closed_at.isna().all()
    assert (closed.closed_at >= closed.created_at).all()
    won = opps[opps.status == "won"]
    assert won.amount.notna().all() and (won.amount > 0).all()
    assert 0.25 < len(won) / len(closed) < 0.55
    assert set(opps["product"]) >= {"ERP Cloud", "POS Terminal"}
    assert (opps.currency == "THB").all()
    # nothing happens at or after the anchor
    assert opps.created_at.max() < anchor_ts and closed.closed_at.max() < anchor_ts
    for table, col in (("leads", "created_at"), ("leads", "qualified_at"), ("activities", "occurred_at"),
                       ("orders", "ordered_at"), ("surveys", "responded_at"), ("content_events", "occurred_at"),
                       ("stage_changes", "entered_at"), ("stage_changes", "exited_at")):
        assert scalar(store, f"SELECT max({col}) FROM {table}") < anchor_ts, (table, col)

    # a deal from a lead follows the lead's qualification, by the lead's own rep
    linked = opps.dropna(subset=["lead_id"]).merge(leads, on="lead_id", suffixes=("", "_lead"))
    assert linked.qualified_at.notna().all()
    assert (linked.created_at >= linked.qualified_at).all()
    assert (linked.owner_rep_id == linked.owner_rep_id_lead).all()
    q = leads.dropna(subset=["qualified_at"])
    assert (q.qualified_at > q.created_at).all()
    by_channel = leads.assign(q=leads.qualified_at.notna()).groupby("channel").q.mean()
    assert set(by_channel.index) == {"referral", "social", "campaign", "event", "outbound", "website"}
    assert by_channel["referral"] > by_channel["social"]

    # stage history: starts at creation, exited_at is the next change, a closed deal ends in "closed"
    sc = frame(store, "SELECT * FROM stage_changes").sort_values(["opportunity_id", "entered_at"])
    nxt = sc.groupby("opportunity_id").entered_at.shift(-1)
    assert sc.exited_at.isna().equals(nxt.isna())
    assert (sc.exited_at.dropna() == nxt.dropna()).all()
    first = sc.groupby("opportunity_id").first()
    last = sc.groupby("opportunity_id").last()
    by_id = opps.set_index("opportunity_id")
    assert (first.stage == "prospecting").all()
    assert (first.entered_at == by_id.created_at[first.index]).all()
    assert (last.stage == by_id.stage[last.index]).all()
    closed_last = last[by_id.status[last.index] != "open"]
    assert (closed_last.stage == "closed").all()
    assert (closed_last.entered_at == by_id.closed_at[closed_last.index]).all()
    assert (sc.groupby(["opportunity_id", "stage"]).size() > 1).any()  # some deals re-enter a stage

    # people: Somchai and a manager for the Slack emulator, one manager per team, hires and leavers
    somchai = reps[reps.slack_user_id == "U0SOMCHAI"].iloc[0]
    assert somchai["name"].startswith("Somchai") and pd.isna(somchai.left_on)
    assert (opps.owner_rep_id == somchai.rep_id).sum() > 10
    manager = reps[reps.slack_user_id == "U0MANAGER"].iloc[0]
    assert manager.rep_id.startswith("mgr-") and manager.role == "manager"
    managers = reps[reps.rep_id.str.startswith("mgr-")]
    assert sorted(managers.team) == sorted(reps.team.unique()) and 4 <= len(managers) <= 6
    assert reps.left_on.notna().any() and (reps.hired_on > ts(summary.start)).any()
    assert reps.email.is_unique and reps.name.is_unique

    # the smaller tables keep their ranges
    scores = frame(store, "SELECT score FROM surveys").score
    assert scores.between(1, 5).all() and (scores >= 4).mean() > 0.7
    assert frame(store, "SELECT rating FROM trainings").rating.between(1, 5).all()
    assert set(frame(store, "SELECT DISTINCT action FROM content_events").action) == {"view", "click", "share"}
    assert set(frame(store, "SELECT DISTINCT type FROM activities").type) == {"call", "email", "meeting", "other"}
    spend = frame(store, "SELECT DISTINCT category, period FROM spend")
    assert set(spend.category) == {"marketing", "sales"} and set(spend.period) == {"day", "month"}
    # forecasts: every period has one submitted before it starts; some were revised
    f = frame(store, "SELECT * FROM forecasts")
    assert (f.groupby(["period", "team"]).submitted_at.min() < f.groupby(["period", "team"]).start_at.min()).all()
    assert (f.groupby(["period", "team"]).size() > 1).any()
    assert {"", "enterprise"} <= set(f.team) and {"2026-10", "2026-Q3"} <= set(f.period)
    t = frame(store, "SELECT * FROM targets")
    assert set(t.metric) == {"revenue", "deals_closed"}
    company = t[(t.team == "") & (t.rep_id == "")]
    teams = t[(t.team != "") & (t.rep_id == "")]
    assert {"2026-11", "2026-Q4"} <= set(company.period) and set(t[t.rep_id != ""].rep_id) <= rep_ids
    # a quarter's target is the sum of its months, for the company as for each team
    qtr = company[(company.period == "2026-Q4") & (company.metric == "revenue")].value.iloc[0]
    months = company[company.period.isin(["2026-10", "2026-11", "2026-12"]) & (company.metric == "revenue")]
    assert qtr == pytest.approx(months.value.sum())
    assert qtr == pytest.approx(teams[(teams.period == "2026-Q4") & (teams.metric == "revenue")].value.sum())


def weekly_cac(engine, weeks: list[date]) -> tuple[list[float], list[float], list[int]]:
    """Spend (a row spread evenly over [start_at, end_at)) and first-purchase customers per ISO week."""
    spend = frame(engine, "SELECT amount, start_at, end_at FROM spend")
    first = purchases(engine).groupby("account_id").t.min()
    out_spend, out_new = [], []
    for monday in weeks:
        lo, hi = ts(monday), ts(monday + timedelta(days=7))
        overlap = (np.minimum(spend.end_at, hi) - np.maximum(spend.start_at, lo)).clip(lower=0)
        out_spend.append(float((spend.amount * overlap / (spend.end_at - spend.start_at)).sum()))
        out_new.append(int(((first >= lo) & (first < hi)).sum()))
    cac = [s / n if n else float("nan") for s, n in zip(out_spend, out_new, strict=True)]
    return cac, out_spend, out_new


def retention(p: pd.DataFrame, start: date, end: date) -> float:
    """Activity mode, 365-day window: active at t = a purchase in [t - 365 d, t)."""

    def active(t: int) -> set[str]:
        return set(p.account_id[(p.t >= t - 365 * DAY) & (p.t < t)])

    a, b = active(ts(start)), active(ts(end))
    return len(a & b) / len(a)


@pytest.mark.parametrize("anchor, spike_week, quarters", [
    (ANCHOR, "2026-W47", ("2026-Q3", date(2026, 7, 1), date(2026, 4, 1), date(2026, 1, 1))),
    # mid-week, and exactly on a quarter's first day (the quarter before it is complete)
    (date(2026, 10, 1), "2026-W39", ("2026-Q3", date(2026, 7, 1), date(2026, 4, 1), date(2026, 1, 1))),
])
def test_planted_cac_spike_and_retention_drop(store, anchor, spike_week, quarters):
    summary = generate(store, anchor=anchor)

    # CAC: the last complete ISO week before the anchor against the 8 weeks before it
    assert summary.cac_spike_week == spike_week
    year, week = map(int, spike_week.split("-W"))
    spike = date.fromisocalendar(year, week, 1)
    assert spike + timedelta(days=7) <= anchor < spike + timedelta(days=14)
    cac, spend, new = weekly_cac(store, [spike - timedelta(weeks=i) for i in range(8, -1, -1)])
    trailing = statistics.median(c for c in cac[:-1] if c == c)
    assert new[-1] >= 1
    assert cac[-1] >= 1.4 * trailing
    assert spend[-1] > 1.3 * statistics.median(spend[:-1])  # spend up sharply
    assert new[-1] < statistics.median(new[:-1])  # new customers down
    assert summary.cac_spike_value == pytest.approx(cac[-1], rel=1e-6)

    # retention: the last complete quarter loses clearly more customers than the ones before it
    key, q_start, prev_start, earlier_start = quarters
    assert summary.retention_drop_quarter == key
    q_end = date(q_start.year + (q_start.month == 10), (q_start.month + 2) % 12 + 1, 1)
    p = purchases(store)
    dropped = retention(p, q_start, q_end)
    previous = retention(p, prev_start, q_start)
    earlier = retention(p, earlier_start, prev_start)
    assert dropped <= previous - 0.05
    assert dropped <= earlier - 0.05
    assert abs(previous - earlier) < 0.05  # the quarters before are steady
    assert summary.retention_dropped == pytest.approx(dropped)
    assert summary.retention_previous == pytest.approx(previous)


def test_refuses_a_store_with_data_unless_replace(store):
    with store.begin() as conn:
        conn.execute(text("INSERT INTO reps (rep_id, name) VALUES ('r1', 'Already Here')"))
    with pytest.raises(DemoError, match="already holds data \\(reps\\).*replace"):
        generate(store, anchor=ANCHOR)
    assert scalar(store, "SELECT count(*) FROM reps") == 1
    assert scalar(store, "SELECT count(*) FROM opportunities") == 0

    generate(store, anchor=ANCHOR, replace=True)
    assert scalar(store, "SELECT count(*) FROM reps WHERE rep_id = 'r1'") == 0
    assert scalar(store, "SELECT count(*) FROM opportunities") == 2_000


def test_scale_is_a_name_or_a_number_of_opportunities(store):
    assert opportunity_count("small") == 2_000
    assert opportunity_count("Medium") == 100_000
    assert opportunity_count("large") == 1_000_000
    assert opportunity_count(2_500.0) == 2_500
    assert opportunity_count("3000") == 3_000
    for bad in ("huge", 10, 0, -5, float("nan"), True):
        with pytest.raises(DemoError, match="scale"):
            opportunity_count(bad)
    summary = generate(store, scale=800, anchor=ANCHOR)
    assert summary.counts["opportunities"] == 800
    assert summary.counts["leads"] == 2_400
    assert 6_000 < summary.counts["activities"] < 10_000
