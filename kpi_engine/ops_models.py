"""Operational state of the scheduler: alert states, the outbox, silences and job runs.

Kept in the KPI store so that one backup holds everything, and so that a restart (or
another process taking over the scheduler) continues where the last one stopped.
Instants are epoch seconds, as in the canonical tables. Only kpi_engine/ops.py reads
and writes these tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(BigInteger, nullable=nullable))


class AlertState(SQLModel, table=True):
    """One (rule, segment): where it is in ok → pending → firing → resolved (or no_data / error)."""

    __tablename__ = "ops_alert_states"
    rule_id: str = Field(primary_key=True)
    segment: str = Field(default="", primary_key=True)  # "" = the rule's whole selection
    state: str = "ok"
    breaches: int = 0  # consecutive breaching evaluations, for the rule's `for`
    episode: int = 0  # bumped at every new firing; part of the message keys
    since: int | None = _ts()  # when the current state began
    evaluated_at: int | None = _ts()  # the as_of of the last evaluation
    period: str | None = None  # label of the period last evaluated
    value: float | None = None
    reason: str | None = None  # what breached, or why there is no data, or the error
    detail: str | None = Field(default=None, sa_column=Column(Text))  # JSON of the last evaluation
    fired_at: int | None = _ts()
    resolved_at: int | None = _ts()
    notified_at: int | None = _ts()  # last firing message or reminder
    message_key: str | None = None  # outbox key of this episode's message (None: not posted)
    acked_by: str | None = None
    acked_at: int | None = _ts()
    updates: int = 0  # message edits so far, so every edit has its own outbox key
    shown: str | None = None  # hash of the content last sent for the message: edit only on a change
    # bumped by every write: the scheduler and a button click in the bot may change one
    # alert at the same moment, and neither may silently undo the other (compare-and-set)
    version: int = 0


class Silence(SQLModel, table=True):
    """A snooze: no new messages for a rule (and segment, or "*" for all) until ends_at."""

    __tablename__ = "ops_silences"
    __table_args__ = (Index("ix_silence_rule", "rule_id", "segment", "ends_at"),)
    id: int | None = Field(default=None, primary_key=True)
    rule_id: str
    segment: str = "*"
    starts_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    ends_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_by: str | None = None
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str | None = None


class OutboxMessage(SQLModel, table=True):
    """A message to deliver exactly once; `key` is its idempotency key (also in Slack's metadata)."""

    __tablename__ = "ops_outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    kind: str  # post | update | upload
    channel: str
    parent_key: str | None = None  # post/upload: into the thread of; update: the message to edit
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    state: str = "pending"  # pending | sending | sent | failed | superseded
    uncertain: bool = False  # an attempt may have reached Slack: look before sending again
    attempts: int = 0
    next_attempt_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    claimed_by: str | None = None
    claimed_at: int | None = _ts()
    sent_at: int | None = _ts()
    channel_id: str | None = None  # the id Slack answered with (config may name channels)
    ts: str | None = None  # Slack ts of the posted message
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class JobRun(SQLModel, table=True):
    """The last scheduled fire time of a job that was started, so a restart knows what it missed."""

    __tablename__ = "ops_job_runs"
    job_id: str = Field(primary_key=True)
    fire_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = "running"  # running | done | error
    runner: str | None = None
    started_at: int | None = _ts()
    finished_at: int | None = _ts()
    error: str | None = Field(default=None, sa_column=Column(Text))
    last_success_at: int | None = _ts()  # when a run of this job last finished without an error


class DigestOptIn(SQLModel, table=True):
    """A person's own weekly digest by DM: switched on or off by them (`/kpi digest on|off`, Home tab)."""

    __tablename__ = "ops_digest_optins"
    user_id: str = Field(primary_key=True)  # Slack user id
    enabled: bool = False
    lang: str | None = None  # the language they asked in, for their digest
    updated_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class AlertHistory(SQLModel, table=True):
    """Every state an alert took, from the instant it took effect (`at`): the as-of view of alerts.

    ops_alert_states holds only the latest state and episode; a digest or an alert run replayed as
    of an earlier instant reads this instead, so an alert that fired later is not open then and an
    acknowledgement made later is not shown. One row per write of the alert (its version).
    """

    __tablename__ = "ops_alert_history"
    __table_args__ = (Index("ix_alert_history_at", "rule_id", "segment", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    rule_id: str
    segment: str = ""
    version: int = 0
    at: int = Field(sa_column=Column(BigInteger, nullable=False))  # when this state took effect
    state: str = "ok"
    episode: int = 0
    since: int | None = _ts()
    period: str | None = None
    value: float | None = None
    fired_at: int | None = _ts()
    resolved_at: int | None = _ts()
    acked_by: str | None = None
    acked_at: int | None = _ts()
    resolved_by: str | None = None  # a person who resolved it by hand (None: the data did)


class SeenRequest(SQLModel, table=True):
    """A signed Slack request already handled: the same signature and timestamp again is a replay.

    Shared by every bot process on the store (a replay may reach another replica); rows older than
    the signature window are pruned, since bolt refuses those timestamps anyway.
    """

    __tablename__ = "ops_seen_requests"
    __table_args__ = (Index("ix_seen_requests_ts", "request_ts"),)
    signature: str = Field(primary_key=True)
    request_ts: int = Field(sa_column=Column(BigInteger, primary_key=True))
    seen_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class ShareRecord(SQLModel, table=True):
    """An answer shared into a channel: once per answer and channel (the unique key)."""

    __tablename__ = "ops_shares"
    answer_id: str = Field(primary_key=True)
    channel: str = Field(primary_key=True)
    shared_by: str
    shared_at: int = Field(sa_column=Column(BigInteger, nullable=False))
