"""The KPI store: one SQLModel table per canonical CSV table of data.md.

Every instant is stored as integer epoch seconds (UTC). Why: the KPI queries
need date arithmetic (days between two stamps, spreading spend over time) and
that arithmetic is identical on SQLite and PostgreSQL only on plain numbers.
Bare dates are stored as the instant of 00:00 in the business timezone.

Optional key columns that take part in a composite primary key (team, rep_id
of targets, team of forecasts) store "" for "empty", because a primary key
column cannot be NULL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, text
from sqlmodel import Field, SQLModel


def _ts(index: bool = False, nullable: bool = True):
    return Field(default=None, sa_column=Column(BigInteger, nullable=nullable, index=index))


def _ts_req(index: bool = False):
    return Field(sa_column=Column(BigInteger, nullable=False, index=index))


class Rep(SQLModel, table=True):
    __tablename__ = "reps"
    rep_id: str = Field(primary_key=True)
    name: str | None = None
    team: str | None = Field(default=None, index=True)
    region: str | None = None
    email: str | None = None
    slack_user_id: str | None = Field(default=None, index=True)
    # optional, beyond data.md: "manager" or "head" grants wider visibility in Slack
    role: str | None = None
    # optional, beyond data.md: the name in Thai script and nicknames (several separated by , ; / or |),
    # so questions can name a rep the way colleagues do ("ยอดขายของสมชาย", "พี่ต้น")
    name_th: str | None = None
    nickname: str | None = None
    hired_on: int | None = _ts()
    left_on: int | None = _ts()


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    account_id: str = Field(primary_key=True)
    name: str | None = None
    segment: str | None = None
    region: str | None = None
    churned_at: int | None = _ts()


class Lead(SQLModel, table=True):
    __tablename__ = "leads"
    __table_args__ = (
        # covering: lead volume / conversion (created in P) and lead->qualified time (qualified
        # in P), with their channel and rep breakdowns, are range scans of an index alone
        Index("ix_leads_created", "created_at", "qualified_at", "channel", "owner_rep_id"),
        Index("ix_leads_qualified", "qualified_at", "created_at", "channel", "owner_rep_id"),
        # SQLite: rows stored in lead_id order, so the lead of a deal (time to close) is one seek
        # in the table itself instead of the key index and then the row
        {"sqlite_with_rowid": False},
    )
    lead_id: str = Field(primary_key=True)
    created_at: int = _ts_req()
    channel: str = Field(index=True)
    campaign: str | None = None
    owner_rep_id: str | None = None
    qualified_at: int | None = _ts()


class Opportunity(SQLModel, table=True):
    __tablename__ = "opportunities"
    __table_args__ = (
        # closed-in-P questions (revenue, win rate, cycle; by rep, team, segment) are range scans
        # on closed_at by status that never touch the table; status 'open' + created_at counts
        # the open pipeline
        Index("ix_opp_status_closed", "status", "closed_at", "amount", "created_at", "owner_rep_id",
              "account_id", "lead_id"),
        # purchase history per customer (first purchase, repeat, retention): an index seek
        # on (account, 'won', closed_at < t) answers "bought before t?"
        Index("ix_opp_account_status_closed", "account_id", "status", "closed_at"),
        # span of the data (min/max closed_at) and per-period scans regardless of status
        Index("ix_opp_closed", "closed_at"),
        Index("ix_opp_created", "created_at"),
        Index("ix_opp_owner", "owner_rep_id"),
    )
    opportunity_id: str = Field(primary_key=True)
    created_at: int = _ts_req()
    status: str
    amount: float | None = None
    account_id: str | None = None
    owner_rep_id: str | None = None
    stage: str | None = None
    closed_at: int | None = _ts()
    lead_id: str | None = None
    product: str | None = None
    currency: str | None = None


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_changes"
    opportunity_id: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    entered_at: int = Field(sa_column=Column(BigInteger, primary_key=True))
    __table_args__ = (
        # covering: "exits in P" with duration and stage is a range scan of the index alone
        Index("ix_stage_exited", "exited_at", "entered_at", "stage", "opportunity_id"),
        Index("ix_stage_entered", "entered_at"),  # the data span's start
    )
    # the instant this stage was left (next change of the same opportunity), kept
    # up to date at import so "exits in P" is an indexed range query
    exited_at: int | None = _ts()


class Activity(SQLModel, table=True):
    __tablename__ = "activities"
    __table_args__ = (
        # covering: activities in P, by type and rep, without touching the table
        Index("ix_act_occurred", "occurred_at", "type", "rep_id"),
        # one rep's activities in P: breakdowns and filters by rep, team or region count rep by rep
        Index("ix_act_rep", "rep_id", "occurred_at", "type"),
    )
    activity_id: str = Field(primary_key=True)
    rep_id: str
    type: str
    occurred_at: int = _ts_req()
    opportunity_id: str | None = None
    account_id: str | None = None


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_order_ordered", "ordered_at", "account_id", "amount"),  # covering for AOV
        Index("ix_order_account_ordered", "account_id", "ordered_at"),
    )
    order_id: str = Field(primary_key=True)
    account_id: str
    ordered_at: int = _ts_req()
    amount: float
    currency: str | None = None


class Spend(SQLModel, table=True):
    __tablename__ = "spend"
    date: str = Field(primary_key=True)  # ISO date as given, part of the upsert key
    channel: str = Field(primary_key=True)
    category: str = Field(primary_key=True)
    period: str = Field(default="day", primary_key=True)
    amount: float
    # the span the amount is spread over, [start_at, end_at)
    start_at: int = _ts_req(index=True)
    end_at: int = _ts_req(index=True)


class Forecast(SQLModel, table=True):
    __tablename__ = "forecasts"
    period: str = Field(primary_key=True)
    team: str = Field(default="", primary_key=True)
    submitted_at: int = Field(sa_column=Column(BigInteger, primary_key=True))
    amount: float
    start_at: int = _ts_req()
    end_at: int = _ts_req()


class Target(SQLModel, table=True):
    __tablename__ = "targets"
    __table_args__ = (
        # one metric's company, team or rep rows (targets.py) are a range of this index, not a scan
        Index("ix_targets_scope", "metric", "rep_id", "team", "start_at", "end_at", "value"),
    )
    period: str = Field(primary_key=True)
    metric: str = Field(primary_key=True)
    team: str = Field(default="", primary_key=True)
    rep_id: str = Field(default="", primary_key=True)
    value: float
    start_at: int = _ts_req()
    end_at: int = _ts_req()


class Survey(SQLModel, table=True):
    __tablename__ = "surveys"
    response_id: str = Field(primary_key=True)
    responded_at: int = _ts_req(index=True)
    score: int
    account_id: str | None = None
    rep_id: str | None = None
    comment: str | None = None


class Training(SQLModel, table=True):
    __tablename__ = "trainings"
    feedback_id: str = Field(primary_key=True)
    held_on: int = _ts_req(index=True)
    rating: float
    rep_id: str | None = None
    session: str | None = None


class ContentEvent(SQLModel, table=True):
    __tablename__ = "content_events"
    __table_args__ = (
        Index("ix_content_occurred", "occurred_at", "action", "rep_id"),
        Index("ix_content_rep", "rep_id", "occurred_at", "action"),
    )
    event_id: str = Field(primary_key=True)
    content_id: str
    occurred_at: int = _ts_req()
    action: str
    rep_id: str | None = None


class Purchase(SQLModel, table=True):
    """Derived, not imported: every purchase (kpis.md: won opportunities ∪ orders) linked to the same
    customer's previous and next one. Rebuilt by derive.refresh_purchases after every write to
    opportunities or orders, so first purchases (CAC), repeat buyers and active customers
    (retention) are range counts over `t` instead of per-customer searches of all history.

    Purchases of one account are ordered by (t, kind, source_id); prev_t / next_t are the t of the
    neighbours in that order (NULL at either end), so ties at one instant still link up and exactly
    one purchase per account is "the first in P" or "the last before t".
    """

    __tablename__ = "purchases"
    __table_args__ = (
        Index("ix_purchase_t", "t", "prev_t", "next_t", "account_id"),
        Index("ix_purchase_account", "account_id", "t"),
    )
    kind: str = Field(primary_key=True)  # "won" (an opportunity) or "order"
    source_id: str = Field(primary_key=True)
    account_id: str
    t: int = _ts_req()
    prev_t: int | None = _ts()
    next_t: int | None = _ts()


class HourlyCount(SQLModel, table=True):
    """Derived, not imported: rows of a big event table per UTC hour and kind, kept by
    derive.refresh_hourly after every write to it.

    source "activities" (kind = type), "content_events" (kind = action): n = rows whose
    occurred_at lies in [hour, hour + 3600). source "stage_changes" (kind = stage): n = exits
    (exited_at) in the hour, total = their seconds in stage. A period's count is then the sum of
    its whole hours here plus its (at most two) partial hours from the table itself; every period
    boundary of any time zone falls on a quarter hour, so the partial hours stay tiny.
    """

    __tablename__ = "hourly_counts"
    __table_args__ = ({"sqlite_with_rowid": False},)  # rows clustered by the key: a range read alone
    source: str = Field(primary_key=True)
    hour: int = Field(sa_column=Column(BigInteger, primary_key=True))
    kind: str = Field(primary_key=True)
    n: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


# ---------------------------------------------------------------- write-time rollups (kpi_engine/rollups.py)


def _measure():
    return Field(default=0.0, sa_column=Column(Float, nullable=False))


class RollupDay(SQLModel, table=True):
    """Derived, not imported: the sums of a fact (kpi_engine/facts.py) per business-zone day and key of a
    cube, exact (integer-valued sums are exact in a double up to 2**53). Sparse: a key has a row only on
    days it has rows. The input of rollup_cum, rebuilt from the rows for every day a write touches."""

    __tablename__ = "rollup_days"
    __table_args__ = (Index("ix_rollup_days_day", "fact", "day"), {"sqlite_with_rowid": False})
    fact: str = Field(primary_key=True)
    cube: str = Field(primary_key=True)
    k1: str = Field(primary_key=True)  # "" stands for NULL
    k2: str = Field(primary_key=True)
    day: int = Field(sa_column=Column(BigInteger, primary_key=True))
    v0: float = _measure()
    v1: float = _measure()
    v2: float = _measure()
    v3: float = _measure()


class RollupCum(SQLModel, table=True):
    """Derived: running totals of rollup_days per key, one row for every day from the key's first day to
    the fact's last, so the sums over any run of whole days are two rows per key (day hi minus day lo),
    whatever the period's length. Clustered by (fact, cube, day): one period's rows are two short ranges."""

    __tablename__ = "rollup_cum"
    __table_args__ = ({"sqlite_with_rowid": False},)
    fact: str = Field(primary_key=True)
    cube: str = Field(primary_key=True)
    day: int = Field(sa_column=Column(BigInteger, primary_key=True))
    k1: str = Field(primary_key=True)
    k2: str = Field(primary_key=True)
    c0: float = _measure()
    c1: float = _measure()
    c2: float = _measure()
    c3: float = _measure()


class RollupMeta(SQLModel, table=True):
    """Per fact: the zone its days are in and the parameters it was built with (the engine reads the
    rows instead when they differ from its config), and the span of its days."""

    __tablename__ = "rollup_meta"
    fact: str = Field(primary_key=True)
    clock: str
    params: str = ""
    first_day: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_day: int = Field(sa_column=Column(BigInteger, nullable=False))


class LongGap(SQLModel, table=True):
    """Derived: a customer's two consecutive purchases further apart than the retention window (the
    customer went inactive at t_end = first + window and came back at next_t). Few rows: retention
    counts the comebacks in a period from here instead of from every purchase."""

    __tablename__ = "long_gaps"
    __table_args__ = (Index("ix_long_gaps_end", "t_end", "next_t", "segment", "region"),)
    account_id: str = Field(primary_key=True)
    t_end: int = Field(sa_column=Column(BigInteger, primary_key=True))
    next_t: int = Field(sa_column=Column(BigInteger, nullable=False))
    segment: str | None = None
    region: str | None = None


# canonical table name -> model, in the order data.md lists them
TABLES: dict[str, type[SQLModel]] = {
    "reps": Rep,
    "accounts": Account,
    "leads": Lead,
    "opportunities": Opportunity,
    "stage_changes": StageChange,
    "activities": Activity,
    "orders": Order,
    "spend": Spend,
    "forecasts": Forecast,
    "targets": Target,
    "surveys": Survey,
    "trainings": Training,
    "content_events": ContentEvent,
}

# a won deal's cycle in seconds, then its close: the deals of one cycle-day of a period (the bin an exact
# median falls in, see kpis._median_cycle) are one short range
Index("ix_opp_cycle", Opportunity.__table__.c.status, text("(closed_at - created_at)"), Opportunity.__table__.c.closed_at)
# the deals of a lead whose creation or channel changed (time to close is kept per deal's close)
Index("ix_opp_lead", Opportunity.__table__.c.lead_id, sqlite_where=text("lead_id IS NOT NULL"),
      postgresql_where=text("lead_id IS NOT NULL"))
