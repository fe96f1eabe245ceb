"""What a digest says, as plain data: built by schedules/digest.py, rendered by bot/digest_blocks.py.

It lives below both (it knows neither Slack nor the scheduler), so the arrows point down: the
scheduler builds these and asks the bot layer to render them; the renderer only reads them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kpi_engine.disclosure import Clearance


@dataclass
class KpiLine:
    key: str
    name: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    change_kind: str
    good: bool | None
    low_sample: bool
    note: str | None


@dataclass
class Pacing:
    key: str
    name: str
    unit: str
    span: str  # mtd | qtd
    period: str  # label
    value: float | None
    target_to_date: float | None
    attainment: float | None  # value vs the target pro-rata to date (inverted when lower is better)
    elapsed: float  # share of the period gone by, in whole days
    projection: float | None  # linear by elapsed days for sums; the current level for levels
    target: float | None  # the whole period's target
    projected_attainment: float | None
    through: str = ""  # ISO date of the last day counted


@dataclass
class Deal:
    """A won deal behind a move (the deal-level driver of a segment's revenue)."""

    id: str
    account: str
    amount: float


@dataclass
class Mover:
    kpi: str
    name: str
    unit: str
    dim: str
    segment: str  # the stored value (filters, keys)
    now: float
    before: float
    change: float  # points for ratios, relative otherwise (as fmt.change expects)
    change_kind: str
    good: bool
    score: float  # impact on the company's value: |the segment's effect| ÷ |company level|
    label: str = ""  # the segment's display name in the digest's language
    z: float | None = None  # robust z of this week against the segment's own trailing weeks
    n_now: int | None = None
    n_before: int | None = None
    deals: list[Deal] = field(default_factory=list)  # the deal(s) behind the move, when few explain it


@dataclass
class OpenAlert:
    rule_id: str
    title: str
    severity: str
    segment: str
    state: str
    fired_at: int | None
    value: float | None
    unit: str
    period: str | None
    acked_by: str | None
    segment_label: str = ""
    period_label: str = ""
    snoozed_until: int | None = None  # epoch seconds: snoozed at the digest's as_of, until then


@dataclass
class TeamLine:
    """One team in the head's digest: the lead KPI's week and its month-to-date pacing."""

    team: str
    label: str
    kpi: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    change_kind: str
    good: bool | None
    attainment: float | None  # month to date against the team's pro-rata target
    open_alerts: int = 0


@dataclass(frozen=True)
class Audience:
    """Whom a digest is for and what it covers: the channel's (the subscription's own filters), or a
    person's own, as bot/access.py scopes it: a manager's team, a rep's own numbers, the company."""

    kind: str  # channel | company | team | self
    filters: dict[str, str]
    recipient: str | None  # Slack user id of a person's digest (sent by DM)
    lang: str = "en"
    label: str = ""  # the team's display name, the rep's name
    team: str | None = None
    rep_id: str | None = None
    members: frozenset[str] = frozenset()  # a manager's reps (for their alerts)
    movers_by: tuple[str, ...] | None = None  # None: the subscription's
    # what the person may see (kpi_engine.disclosure); None: a channel's digest, seen by its members
    # as the subscription's config decided
    clearance: Clearance | None = None


@dataclass
class DigestData:
    digest_id: str
    channel: str
    lang: str
    key: str
    week: dict[str, Any]
    previous_week: dict[str, Any]
    as_of: str
    currency: str
    filters: dict[str, str]
    lines: list[KpiLine] = field(default_factory=list)
    pacing: list[Pacing] = field(default_factory=list)
    movers: list[Mover] = field(default_factory=list)
    alerts: list[OpenAlert] = field(default_factory=list)
    teams: list[TeamLine] = field(default_factory=list)  # a line per team (or per rep in a manager's)
    split_by: str = ""  # team | rep
    chart: bytes | None = None
    chart_kpi: str | None = None
    chart_weeks: int = 12
    seconds: float = 0.0
    # a personal digest: who it is for ("team" of a manager, "self" of a rep) and the scope's name
    audience: str = "channel"  # channel | team | self
    scope_label: str = ""
    recipient: str | None = None  # Slack user id of a personal digest
    tz: str = "Asia/Bangkok"
    data_to: int | None = None  # the oldest freshness of its KPIs' data (kpi_engine.freshness)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["chart"] = None if self.chart is None else {"kpi": self.chart_kpi, "png_bytes": len(self.chart)}
        return d
