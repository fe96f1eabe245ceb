"""Digest subscriptions, alert rules and scheduler settings from the TOML config.
Owned by the scheduler; read by the config loader.

Everything is checked when the config loads (a bad cron line here; an unknown KPI or a
breakdown the KPI does not have by kpi_engine/config_check.py), so a typo fails `kpibot run`
at start with the field named, not on Monday morning inside a job.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Grain = Literal["day", "week", "month", "quarter", "year"]
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _check_cron(v: str) -> str:
    # imported here: every command loads this config, few of them read a cron line
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(v, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"{v!r} is not a cron line (minute hour day month weekday, e.g. '0 9 * * mon'): {exc}") \
            from exc
    return v


def _check_id(v: str) -> str:
    if not _ID.match(v):
        raise ValueError(f"{v!r}: use lowercase letters, digits, '_', '-' or '.' (at most 64)")
    return v


def check_channel(v: str | None) -> str | None:
    # "" is what a template leaves; it would post to "#" (or, where a fallback follows, hide that the
    # line was meant to say something)
    if v is not None and not v.strip():
        raise ValueError("is empty: name a Slack channel (e.g. \"leadership\") or its id, or leave the key out "
                         "for the default")
    return v


class SchedulerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # a run missed while the service was down happens once on start if it is at most this old
    misfire_grace_hours: float = Field(12.0, ge=0)
    # how often a non-leader retries to become the scheduler, and the leader checks it still is
    leader_poll_seconds: float = Field(10.0, gt=0)
    # how often the sender looks for due outbox messages even when nobody woke it
    outbox_poll_seconds: float = Field(5.0, gt=0)
    # a message left "sending" this long by a live-looking process is checked in Slack and retried
    outbox_stale_seconds: float = Field(120.0, gt=0)
    # one Slack call's timeout; a timed-out post is looked up in Slack before it is sent again
    slack_timeout_seconds: float = Field(15.0, gt=0)


class DigestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = "weekly"
    channel: str | None = None  # None: [slack].digest_channel
    cron: str = "0 9 * * mon"
    kpis: list[str] = ["revenue", "deals_closed", "win_rate", "avg_deal_size", "cac", "retention"]
    lang: Literal["en", "th"] = "en"
    filter: dict[str, str] = {}
    # breakdowns searched for movers (a KPI without one is skipped)
    movers_by: list[str] = ["team", "region"]
    # at most this many movers, the largest impact on the company's value first
    movers: int = Field(5, ge=0, le=10)
    # a segment moves when its week's robust z against its own trailing 8 weeks reaches this
    movers_z: float = Field(3.0, gt=0)
    # people who said `/kpi digest on` get their own digest by DM (their team's, or their own numbers)
    personal: bool = True
    chart: bool = True  # a trend chart uploaded into the digest's thread
    # the KPI drawn in the chart; None: the first listed
    chart_kpi: str | None = None
    chart_weeks: int = Field(12, ge=4, le=52)
    enabled: bool = True

    _id = field_validator("id")(_check_id)
    _cron = field_validator("cron")(_check_cron)
    _channel = field_validator("channel")(check_channel)

    @model_validator(mode="after")
    def _known(self) -> DigestConfig:
        if not self.kpis:
            raise ValueError("kpis: list at least one KPI")
        return self


# ------------------------------------------------------------------ alert conditions
# A rule fires when any of its conditions holds. Ratio KPIs are fractions (0.85 is 85 %);
# the *_pct and *_pp fields are written as people say them (25 means 25 %, 5 means 5 points).


class _Cond(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Threshold(_Cond):
    type: Literal["threshold"]
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one(self) -> Threshold:
        if self.above is None and self.below is None:
            raise ValueError("threshold: set above or below")
        return self


class Change(_Cond):
    """Change vs the previous period of the same grain (like-for-like for a to-date period)."""

    type: Literal["change"]
    up_pct: float | None = Field(None, gt=0)
    down_pct: float | None = Field(None, gt=0)
    up_pp: float | None = Field(None, gt=0)
    down_pp: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Change:
        if all(v is None for v in (self.up_pct, self.down_pct, self.up_pp, self.down_pp)):
            raise ValueError("change: set up_pct, down_pct, up_pp or down_pp")
        return self


class VsMedian(_Cond):
    """The period against the median of the `periods` periods before it."""

    type: Literal["vs_median"]
    periods: int = Field(8, ge=3, le=52)
    above_pct: float | None = Field(None, gt=0)
    below_pct: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> VsMedian:
        if self.above_pct is None and self.below_pct is None:
            raise ValueError("vs_median: set above_pct or below_pct")
        return self


class VsTarget(_Cond):
    """Attainment (value / target, inverted for KPIs where lower is better) below a percentage."""

    type: Literal["vs_target"]
    below_pct: float = Field(90.0, gt=0)


class Anomaly(_Cond):
    """Robust z-score (median/MAD) of the latest day or week against its history.

    daily: the last complete day against the same weekday of the previous weeks (weekly
    seasonality); weekly: the rule's week (or the last complete week) against the weeks before.
    """

    type: Literal["anomaly"]
    series: Literal["daily", "weekly"] = "weekly"
    z: float = Field(3.5, gt=0)
    history_weeks: int = Field(8, ge=3, le=52)
    min_weeks: int = Field(3, ge=3)
    direction: Literal["bad", "both"] = "bad"


Condition = Annotated[Threshold | Change | VsMedian | VsTarget | Anomaly, Field(discriminator="type")]


class AlertRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    name: str | None = None
    name_th: str | None = None
    kpi: str
    grain: Grain = "week"
    # "last": the last complete period before the evaluation; "to_date": the current one so far
    period: Literal["last", "to_date"] = "last"
    filter: dict[str, str] = {}
    per: str | None = None  # evaluate each value of this breakdown separately ("team", "region", …)
    conditions: list[Condition] = Field(min_length=1)
    # fewer denominator items than this never alerts (None: config min_sample for ratio KPIs)
    min_sample: int | None = Field(None, ge=0)
    for_: int = Field(1, alias="for", ge=1)  # consecutive breaching evaluations before it fires
    cooldown_hours: float = Field(0.0, ge=0)  # after a resolution, no new alert for this long
    repeat_hours: float = Field(0.0, ge=0)  # while firing, unacknowledged: remind this often (0: never)
    severity: Literal["info", "warning", "critical"] = "warning"
    channel: str | None = None  # None: [alerts].channel, then [slack].alerts_channel
    mention: str | None = None  # "<!here>", "<!channel>", "<@U123>" or "@U123"
    lang: Literal["en", "th"] | None = None
    enabled: bool = True

    _id = field_validator("id")(_check_id)
    _channel = field_validator("channel")(check_channel)

    @field_validator("mention")
    @classmethod
    def _mention(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        v = v.strip()
        if v in ("@here", "@channel"):
            return f"<!{v[1:]}>"
        if re.match(r"^@[UW][A-Z0-9]+$", v):
            return f"<{v}>"
        if re.match(r"^<(!here|!channel|@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+)>$", v):
            return v
        raise ValueError(f"{v!r}: use <!here>, <!channel>, <@U123> or @U123")

    @model_validator(mode="after")
    def _known(self) -> AlertRule:
        # the KPI's name, filters and breakdown are checked against the catalogue by the loader
        # (kpi_engine/config_check.py): config knows no KPI
        if self.per and self.per in self.filter:
            raise ValueError(f"per: {self.per!r} is also a filter")
        return self

    def label(self, lang: str = "en") -> str:
        if lang == "th" and self.name_th:
            return self.name_th
        return self.name or self.id


def _default_rules() -> list[AlertRule]:
    return [
        AlertRule.model_validate({
            "id": "cac_spike", "name": "CAC spike", "name_th": "ต้นทุนหาลูกค้าใหม่พุ่งสูง", "kpi": "cac",
            "grain": "week", "severity": "warning",
            "conditions": [{"type": "vs_median", "periods": 8, "above_pct": 25},
                           {"type": "anomaly", "series": "weekly", "z": 3.5, "history_weeks": 8}]}),
        AlertRule.model_validate({
            "id": "retention_drop", "name": "Retention drop", "name_th": "อัตราการรักษาลูกค้าลดลง",
            "kpi": "retention", "grain": "quarter", "severity": "critical",
            "conditions": [{"type": "change", "down_pp": 5}, {"type": "threshold", "below": 0.85}]}),
    ]


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    channel: str | None = None  # None: [slack].alerts_channel
    # when rules are evaluated; daily after the nightly import by default (see README)
    cron: str = "0 8 * * *"
    rules: list[AlertRule] = Field(default_factory=_default_rules)

    _cron = field_validator("cron")(_check_cron)
    _channel = field_validator("channel")(check_channel)

    @model_validator(mode="after")
    def _unique(self) -> AlertsConfig:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"rules: id {r.id!r} is used twice")
            seen.add(r.id)
        return self
