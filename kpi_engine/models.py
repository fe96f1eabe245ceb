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

from sqlalchemy import BigInteger, Column, Index
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
    lead_id: str = Field(primary_key=True)
    created_at: int = _ts_req(index=True)
    channel: str = Field(index=True)
    campaign: str | None = None
    owner_rep_id: str | None = None
    qualified_at: int | None = _ts(index=True)


class Opportunity(SQLModel, table=True):
    __tablename__ = "opportunities"
    __table_args__ = (
        # closed-in-P questions (revenue, win rate, cycle) are range scans on closed_at by status
        Index("ix_opp_status_closed", "status", "closed_at"),
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
    # the instant this stage was left (next change of the same opportunity), kept
    # up to date at import so "exits in P" is an indexed range query
    exited_at: int | None = _ts(index=True)


class Activity(SQLModel, table=True):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_act_occurred", "occurred_at", "rep_id"),)
    activity_id: str = Field(primary_key=True)
    rep_id: str
    type: str
    occurred_at: int = _ts_req()
    opportunity_id: str | None = None
    account_id: str | None = None


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_order_ordered", "ordered_at"),
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
    __table_args__ = (Index("ix_content_occurred", "occurred_at", "rep_id"),)
    event_id: str = Field(primary_key=True)
    content_id: str
    occurred_at: int = _ts_req()
    action: str
    rep_id: str | None = None


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
