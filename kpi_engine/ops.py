"""Persistence of the scheduler's state: the outbox, alert states, silences and job runs.

The only place with SQL for these tables (kpi_engine/ops_models.py). Nothing here reads
the clock: every method that needs "now" takes it as epoch seconds, so tests drive time.

Concurrency: the service's scheduler, its sender, the bot's button handlers and a
`kpibot digest` in a terminal may all touch these rows at once, possibly from
different processes. Every state change is therefore a conditional UPDATE (claim an
outbox row only if it is still pending; write an alert only if its version is the one
read), never a read-then-blind-write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kpi_engine.ops_models import (
    AlertHistory,
    AlertState,
    DigestOptIn,
    JobRun,
    OutboxMessage,
    SeenRequest,
    ShareRecord,
    Silence,
)

_OUT = OutboxMessage.__table__
_ALERT = AlertState.__table__
_SIL = Silence.__table__
_JOB = JobRun.__table__
_OPT = DigestOptIn.__table__
_HIST = AlertHistory.__table__
_SEEN = SeenRequest.__table__
_SHARE = ShareRecord.__table__
# what an as-of reader needs of an alert; a write that changes none of these adds no history row
HISTORY_FIELDS = ("state", "episode", "period", "value", "fired_at", "resolved_at", "acked_by", "acked_at")

OUTBOX_STATES = ("pending", "sending", "sent", "failed", "superseded")
ALERT_COLUMNS = [c.name for c in _ALERT.columns]


@dataclass
class NewMessage:
    """An outbox entry to create. payload: what the sender needs for the Slack call (JSON-able)."""

    key: str
    kind: str  # post | update | upload; verify | delete (the sender's own checks for duplicates)
    channel: str
    payload: dict[str, Any]
    parent_key: str | None = None
    not_before: int = 0  # epoch seconds before which it is not due


@dataclass
class OutboxRow:
    id: int
    key: str
    kind: str
    channel: str
    parent_key: str | None
    payload: dict[str, Any]
    state: str
    uncertain: bool
    attempts: int
    next_attempt_at: int
    created_at: int
    claimed_by: str | None
    claimed_at: int | None
    sent_at: int | None
    channel_id: str | None
    ts: str | None
    last_error: str | None


def _outbox_row(r) -> OutboxRow:
    d = dict(r._mapping)
    d["payload"] = json.loads(d["payload"])
    d["uncertain"] = bool(d["uncertain"])
    return OutboxRow(**d)


_DETAIL_OPTIONS = (orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS)


@dataclass
class AlertRow:
    """A (rule, segment) alert state as read; `version` is what a write must still find."""

    rule_id: str
    segment: str
    state: str = "ok"
    breaches: int = 0
    episode: int = 0
    since: int | None = None
    evaluated_at: int | None = None
    period: str | None = None
    value: float | None = None
    reason: str | None = None
    detail: str | None = None
    fired_at: int | None = None
    resolved_at: int | None = None
    notified_at: int | None = None
    message_key: str | None = None
    acked_by: str | None = None
    acked_at: int | None = None
    updates: int = 0
    shown: str | None = None
    version: int = 0

    @property
    def episode_open(self) -> bool:
        """Fired and not yet resolved (it may be in no_data or error meanwhile)."""
        return self.fired_at is not None and self.resolved_at is None

    def detail_json(self) -> dict[str, Any]:
        if not self.detail:
            return {}
        try:
            return orjson.loads(self.detail)
        except orjson.JSONDecodeError:  # written by json.dumps before set_detail: it may hold NaN
            return json.loads(self.detail)

    def set_detail(self, detail: dict[str, Any]) -> None:
        # orjson: an alert run encodes one detail per rule and segment (16,000 at 1M opportunities), and
        # the stdlib encoder took a seventh of the run. The options keep what json.dumps(default=str)
        # wrote: numbers from numpy as numbers, datetimes and dataclasses as str() of them.
        self.detail = orjson.dumps(detail, default=str, option=_DETAIL_OPTIONS).decode()


@dataclass
class SilenceRow:
    id: int
    rule_id: str
    segment: str
    starts_at: int
    ends_at: int
    created_by: str | None
    created_at: int
    reason: str | None


@dataclass
class ShareRow:
    answer_id: str
    channel: str
    shared_by: str
    shared_at: int


@dataclass
class OptInRow:
    user_id: str
    enabled: bool
    lang: str | None
    updated_at: int


class StaleWrite(Exception):
    """The alert changed since it was read (another process wrote it): read again and redo."""


class OpsStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._dialect = engine.dialect.name

    def _insert_new(self, conn: Connection, table: Table, conflict: list[str], **values: Any) -> bool:
        """INSERT unless a row with the same key exists; True when inserted.

        ON CONFLICT DO NOTHING rather than catching the IntegrityError: a failed statement
        aborts a PostgreSQL transaction, and savepoints are unreliable on pysqlite.
        """
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        stmt = (dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
                .returning(table.c[conflict[0]]))
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT through SQLAlchemy 2.1
        return conn.execute(stmt).first() is not None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: an alert's new state and the messages it causes commit together."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as c:
                yield c

    # ------------------------------------------------------------------ outbox

    def enqueue(self, messages: list[NewMessage], now: int, conn: Connection | None = None) -> list[bool]:
        """Create the messages whose key is new; True for each created, False for a key seen before.

        A key is never reused, whatever the state of its row: that is what makes a rerun of a
        digest or an alert evaluation harmless.
        """
        created = []
        with self._tx(conn) as c:
            for m in messages:
                created.append(self._insert_new(
                    c, _OUT, ["key"], key=m.key, kind=m.kind, channel=m.channel, parent_key=m.parent_key,
                    payload=json.dumps(m.payload, ensure_ascii=False), state="pending", uncertain=False,
                    attempts=0, next_attempt_at=m.not_before, created_at=now))
        return created

    def existing_keys(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(select(_OUT.c.key).where(_OUT.c.key.in_(keys)))}

    def supersede_updates(self, parent_key: str, conn: Connection | None = None) -> int:
        """Drop edits of a message not yet sent: a newer edit replaces them (edits carry whole content)."""
        with self._tx(conn) as c:
            return c.execute(update(_OUT).where(and_(
                _OUT.c.parent_key == parent_key, _OUT.c.kind == "update", _OUT.c.state == "pending"))
                .values(state="superseded")).rowcount

    def under(self, prefix: str, states: tuple[str, ...] | None = None) -> list[OutboxRow]:
        """The rows of `prefix` and of every key extending it (`prefix:…`): a digest with its chart, an
        alert episode with its edits and replies."""
        q = (select(_OUT).where(or_(_OUT.c.key == prefix, _OUT.c.key.startswith(prefix + ":", autoescape=True)))
             .order_by(_OUT.c.id))
        if states:
            q = q.where(_OUT.c.state.in_(states))
        with self.engine.connect() as c:
            return [_outbox_row(r) for r in c.execute(q)]

    def message(self, key: str) -> OutboxRow | None:
        with self.engine.connect() as c:
            r = c.execute(select(_OUT).where(_OUT.c.key == key)).first()
        return _outbox_row(r) if r else None

    def messages(self, keys: list[str] | None = None, states: tuple[str, ...] | None = None) -> list[OutboxRow]:
        q = select(_OUT).order_by(_OUT.c.id)
        if keys is not None:
            if not keys:
                return []
            q = q.where(_OUT.c.key.in_(keys))
        if states:
            q = q.where(_OUT.c.state.in_(states))
        with self.engine.connect() as c:
            return [_outbox_row(r) for r in c.execute(q)]

    def due(self, now: int, limit: int = 50, keys: list[str] | None = None,
            kinds: tuple[str, ...] | None = None) -> list[OutboxRow]:
        """Pending messages whose time has come, oldest first (Slack shows them in that order)."""
        q = (select(_OUT).where(and_(_OUT.c.state == "pending", _OUT.c.next_attempt_at <= now))
             .order_by(_OUT.c.id).limit(limit))
        if keys is not None:
            q = q.where(_OUT.c.key.in_(keys))
        if kinds is not None:
            q = q.where(_OUT.c.kind.in_(kinds))
        with self.engine.connect() as c:
            return [_outbox_row(r) for r in c.execute(q)]

    def next_due_at(self) -> int | None:
        with self.engine.connect() as c:
            return c.execute(select(func.min(_OUT.c.next_attempt_at)).where(_OUT.c.state == "pending")).scalar()

    def sending(self) -> list[OutboxRow]:
        with self.engine.connect() as c:
            return [_outbox_row(r) for r in c.execute(select(_OUT).where(_OUT.c.state == "sending")
                                                      .order_by(_OUT.c.id))]

    def claim(self, row: OutboxRow, runner: str, now: int) -> bool:
        """Take a row for one attempt: pending → sending, or a stale sending row from a dead sender.

        Only one sender wins (the UPDATE matches the state it read), so a message is never in
        flight twice. A reclaimed sending row becomes uncertain: it may have reached Slack.
        """
        cond = [_OUT.c.id == row.id, _OUT.c.state == row.state]
        values: dict[str, Any] = {"state": "sending", "claimed_by": runner, "claimed_at": now,
                                  "attempts": _OUT.c.attempts + 1}
        if row.state == "sending":
            cond.append(_OUT.c.claimed_by == row.claimed_by if row.claimed_by else _OUT.c.claimed_by.is_(None))
            values["uncertain"] = True
        elif row.state != "pending":
            return False
        with self.engine.begin() as c:
            return c.execute(update(_OUT).where(and_(*cond)).values(**values)).rowcount == 1

    def mark_sent(self, row_id: int, runner: str, now: int, ts: str | None, channel_id: str | None) -> bool:
        with self.engine.begin() as c:
            return c.execute(update(_OUT).where(and_(_OUT.c.id == row_id, _OUT.c.claimed_by == runner,
                                                     _OUT.c.state == "sending"))
                             .values(state="sent", sent_at=now, ts=ts, channel_id=channel_id, uncertain=False,
                                     last_error=None)).rowcount == 1

    def mark_retry(self, row_id: int, runner: str, next_at: int, error: str, uncertain: bool) -> bool:
        values: dict[str, Any] = {"state": "pending", "next_attempt_at": next_at, "last_error": error[:2000],
                                  "claimed_by": None, "claimed_at": None}
        if uncertain:
            values["uncertain"] = True  # once uncertain, stays so until found or sent
        with self.engine.begin() as c:
            return c.execute(update(_OUT).where(and_(_OUT.c.id == row_id, _OUT.c.claimed_by == runner,
                                                     _OUT.c.state == "sending"))
                             .values(**values)).rowcount == 1

    def mark_failed(self, row_id: int, runner: str, error: str) -> bool:
        with self.engine.begin() as c:
            return c.execute(update(_OUT).where(and_(_OUT.c.id == row_id, _OUT.c.claimed_by == runner,
                                                     _OUT.c.state == "sending"))
                             .values(state="failed", last_error=error[:2000], claimed_by=None)).rowcount == 1

    def channel_id_for(self, channel: str) -> str | None:
        """The Slack id a channel name resolved to on an earlier successful post."""
        with self.engine.connect() as c:
            return c.execute(select(_OUT.c.channel_id).where(and_(_OUT.c.channel == channel,
                                                                  _OUT.c.channel_id.is_not(None))).limit(1)).scalar()

    def message_by_ref(self, ref: str) -> OutboxRow | None:
        """A message by its key, or by its id written as 12 or #12."""
        ref = ref.strip()
        if ref.lstrip("#").isdigit():
            with self.engine.connect() as c:
                r = c.execute(select(_OUT).where(_OUT.c.id == int(ref.lstrip("#")))).first()
            if r is not None:
                return _outbox_row(r)
        return self.message(ref)

    def failed_children(self, keys: list[str]) -> list[OutboxRow]:
        """Failed messages that belong to these (thread replies, edits), and theirs, in id order."""
        out: dict[str, OutboxRow] = {}
        frontier = list(keys)
        while frontier:
            with self.engine.connect() as c:
                rows = [_outbox_row(r) for r in c.execute(select(_OUT).where(and_(
                    _OUT.c.parent_key.in_(frontier), _OUT.c.state == "failed")))]
            frontier = [r.key for r in rows if r.key not in out and r.key not in keys]
            out.update({r.key: r for r in rows})
        return sorted(out.values(), key=lambda r: r.id)

    def requeue(self, keys: list[str], now: int) -> int:
        """Failed messages back to pending, due now, with a fresh count of attempts (an operator's retry)."""
        if not keys:
            return 0
        with self.engine.begin() as c:
            return c.execute(update(_OUT).where(and_(_OUT.c.key.in_(keys), _OUT.c.state == "failed"))
                             .values(state="pending", next_attempt_at=now, attempts=0, claimed_by=None,
                                     claimed_at=None)).rowcount

    def purge_sent(self, before: int, dry_run: bool = False) -> dict[str, int]:
        """Free the space of messages delivered (or superseded) before `before`.

        Edits, uploads (chart PNGs) and superseded edits are deleted: nothing refers to them by key.
        Posts keep a receipt (key, channel, ts, times) with an empty payload: their key is what keeps a
        rerun of an old digest or alert from posting it again, and their ts is what later edits and
        thread replies (an old alert's Explain button) need.
        """
        gone = or_(and_(_OUT.c.state == "superseded", _OUT.c.created_at < before),
                   and_(_OUT.c.state == "sent", _OUT.c.kind.in_(("update", "upload")), _OUT.c.sent_at < before))
        empty = and_(_OUT.c.state == "sent", _OUT.c.kind == "post", _OUT.c.sent_at < before,
                     _OUT.c.payload != "{}")
        with self.engine.begin() as c:
            deleted, dbytes = c.execute(select(func.count(), func.coalesce(func.sum(func.length(_OUT.c.payload)), 0))
                                        .where(gone)).one()
            emptied, ebytes = c.execute(select(func.count(), func.coalesce(func.sum(func.length(_OUT.c.payload)), 0))
                                        .where(empty)).one()
            if not dry_run:
                c.execute(_OUT.delete().where(gone))
                c.execute(update(_OUT).where(empty).values(payload="{}"))
        return {"deleted": int(deleted), "emptied": int(emptied), "bytes": int(dbytes) + int(ebytes)}

    def outbox_counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(select(_OUT.c.state, func.count()).group_by(_OUT.c.state)).all()
        return {s: int(n) for s, n in rows}

    # ------------------------------------------------------------------ alert states

    def alerts(self, rule_id: str | None = None) -> dict[tuple[str, str], AlertRow]:
        q = select(_ALERT)
        if rule_id is not None:
            q = q.where(_ALERT.c.rule_id == rule_id)
        with self.engine.connect() as c:
            return {(r.rule_id, r.segment): AlertRow(**dict(r._mapping)) for r in c.execute(q)}

    def alert(self, rule_id: str, segment: str, conn: Connection | None = None) -> AlertRow | None:
        q = select(_ALERT).where(and_(_ALERT.c.rule_id == rule_id, _ALERT.c.segment == segment))
        if conn is not None:
            r = conn.execute(q).first()
        else:
            with self.engine.connect() as c:
                r = c.execute(q).first()
        return AlertRow(**dict(r._mapping)) if r else None

    def open_alerts(self, as_of: int | None = None) -> list[AlertRow]:
        """Alerts in an open episode (firing, or fired and since without data), oldest first; with
        `as_of`, those open at that instant, acknowledged only if that happened by then."""
        if as_of is not None:
            rows = [r for r in self.alerts_as_of(as_of).values() if r.episode_open]
            return sorted(rows, key=lambda r: (r.fired_at or 0, r.rule_id, r.segment))
        q = (select(_ALERT).where(and_(_ALERT.c.fired_at.is_not(None), _ALERT.c.resolved_at.is_(None)))
             .order_by(_ALERT.c.fired_at))
        with self.engine.connect() as c:
            return [AlertRow(**dict(r._mapping)) for r in c.execute(q)]

    def save_alert(self, row: AlertRow, conn: Connection, at: int | None = None,
                   resolved_by: str | None = None) -> AlertRow:
        """Write `row` if nobody wrote it since it was read (its version); raises StaleWrite otherwise.

        `at`: when the change took effect (the evaluation's as_of, a click's time; default the row's
        evaluated_at). A change of what the as-of readers show is also appended to the history.
        """
        values = {k: getattr(row, k) for k in ALERT_COLUMNS if k not in ("rule_id", "segment", "version")}
        new_version = row.version + 1
        if row.version == 0:
            if not self._insert_new(conn, _ALERT, ["rule_id", "segment"], rule_id=row.rule_id,
                                    segment=row.segment, version=new_version, **values):
                raise StaleWrite(f"{row.rule_id}/{row.segment} was created meanwhile")
        else:
            n = conn.execute(update(_ALERT).where(and_(
                _ALERT.c.rule_id == row.rule_id, _ALERT.c.segment == row.segment, _ALERT.c.version == row.version))
                .values(version=new_version, **values)).rowcount
            if n != 1:
                raise StaleWrite(f"{row.rule_id}/{row.segment} changed meanwhile")
        row.version = new_version
        self._record_history(conn, row, (row.evaluated_at or 0) if at is None else at, resolved_by)
        return row

    def _record_history(self, conn: Connection, row: AlertRow, at: int, resolved_by: str | None) -> None:
        last = conn.execute(select(*[_HIST.c[f] for f in HISTORY_FIELDS]).where(and_(
            _HIST.c.rule_id == row.rule_id, _HIST.c.segment == row.segment))
            .order_by(_HIST.c.at.desc(), _HIST.c.id.desc()).limit(1)).first()
        now = tuple(getattr(row, f) for f in HISTORY_FIELDS)
        if last is not None and resolved_by is None:
            was = dict(zip(HISTORY_FIELDS, last, strict=True))
            shown = row.episode_open or (was["fired_at"] is not None and was["resolved_at"] is None)
            # the value and period of an alert that is not open are shown nowhere: a quiet rule's
            # daily evaluations add no rows
            keys = HISTORY_FIELDS if shown else tuple(f for f in HISTORY_FIELDS if f not in ("value", "period"))
            if all(was[f] == getattr(row, f) for f in keys):
                return  # evaluated again, nothing an as-of reader shows has changed
        conn.execute(insert(_HIST).values(rule_id=row.rule_id, segment=row.segment, version=row.version, at=at,
                                          since=row.since, resolved_by=resolved_by,
                                          **dict(zip(HISTORY_FIELDS, now, strict=True))))

    def alerts_as_of(self, t: int, rule_id: str | None = None) -> dict[tuple[str, str], AlertRow]:
        """Each alert as it was at instant `t` (its latest history row at or before t); alerts with
        no state yet at t are absent. Columns the history does not keep have their defaults."""
        h2 = _HIST.alias("h2")
        latest = (select(h2.c.id).where(and_(h2.c.rule_id == _HIST.c.rule_id, h2.c.segment == _HIST.c.segment,
                                             h2.c.at <= t))
                  .order_by(h2.c.at.desc(), h2.c.id.desc()).limit(1).scalar_subquery())
        q = select(_HIST).where(_HIST.c.id == latest)
        if rule_id is not None:
            q = q.where(_HIST.c.rule_id == rule_id)
        out = {}
        with self.engine.connect() as c:
            for r in c.execute(q):
                m = r._mapping
                out[(m["rule_id"], m["segment"])] = AlertRow(
                    m["rule_id"], m["segment"], since=m["since"], evaluated_at=m["at"],
                    **{f: m[f] for f in HISTORY_FIELDS})
        return out

    # ------------------------------------------------------------------ silences

    def add_silence(self, rule_id: str, segment: str, starts_at: int, ends_at: int, created_by: str | None,
                    now: int, reason: str | None = None, conn: Connection | None = None) -> int:
        with self._tx(conn) as c:
            return int(c.execute(insert(_SIL).values(
                rule_id=rule_id, segment=segment, starts_at=starts_at, ends_at=ends_at, created_by=created_by,
                created_at=now, reason=reason)).inserted_primary_key[0])

    def active_silence(self, rule_id: str, segment: str, now: int,
                       conn: Connection | None = None) -> SilenceRow | None:
        """The silence covering (rule, segment) at `now` that lasts longest, if any."""
        q = (select(_SIL).where(and_(_SIL.c.rule_id == rule_id, _SIL.c.segment.in_([segment, "*"]),
                                     _SIL.c.starts_at <= now, _SIL.c.ends_at > now))
             .order_by(_SIL.c.ends_at.desc()).limit(1))
        if conn is not None:
            r = conn.execute(q).first()
        else:
            with self.engine.connect() as c:
                r = c.execute(q).first()
        return SilenceRow(**dict(r._mapping)) if r else None

    def silences_by(self, rule_id: str, segment: str, now: int) -> list[SilenceRow]:
        """Every silence covering (rule, segment) at `now`, longest first."""
        q = (select(_SIL).where(and_(_SIL.c.rule_id == rule_id, _SIL.c.segment.in_([segment, "*"]),
                                     _SIL.c.starts_at <= now, _SIL.c.ends_at > now))
             .order_by(_SIL.c.ends_at.desc()))
        with self.engine.connect() as c:
            return [SilenceRow(**dict(r._mapping)) for r in c.execute(q)]

    def silences(self, now: int) -> list[SilenceRow]:
        q = select(_SIL).where(and_(_SIL.c.starts_at <= now, _SIL.c.ends_at > now)).order_by(_SIL.c.ends_at)
        with self.engine.connect() as c:
            return [SilenceRow(**dict(r._mapping)) for r in c.execute(q)]

    # ------------------------------------------------------------------ job runs

    def claim_job(self, job_id: str, fire_at: int, runner: str, now: int, takeover: bool = False) -> bool:
        """Record that `runner` starts the run of `job_id` scheduled at `fire_at`; False if it was started.

        takeover: also take a run another runner started and never finished (that runner lost
        the leadership or died mid-run), or one that ended in an error. Runs are idempotent
        (outbox keys, alert versions), so running one again is safe; missing one is not.
        """
        again = _JOB.c.fire_at < fire_at
        if takeover:
            again = or_(again, and_(_JOB.c.fire_at == fire_at, or_(
                and_(_JOB.c.status == "running", _JOB.c.runner != runner), _JOB.c.status == "error")))
        values = {"fire_at": fire_at, "status": "running", "runner": runner, "started_at": now,
                  "finished_at": None, "error": None}
        with self.engine.begin() as c:
            if c.execute(update(_JOB).where(and_(_JOB.c.job_id == job_id, again)).values(**values)).rowcount == 1:
                return True
            if c.execute(select(_JOB.c.job_id).where(_JOB.c.job_id == job_id)).first() is not None:
                return False
            return self._insert_new(c, _JOB, ["job_id"], job_id=job_id, **values)

    def finish_job(self, job_id: str, fire_at: int, runner: str, now: int, error: str | None = None) -> None:
        with self.engine.begin() as c:
            c.execute(update(_JOB).where(and_(_JOB.c.job_id == job_id, _JOB.c.fire_at == fire_at,
                                              _JOB.c.runner == runner))
                      .values(status="error" if error else "done", finished_at=now,
                              error=error[:2000] if error else None,
                              **({} if error else {"last_success_at": now})))

    def job_runs(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as c:
            return {r.job_id: dict(r._mapping) for r in c.execute(select(_JOB))}

    # ------------------------------------------------------------------ personal digests

    def set_digest_optin(self, user_id: str, enabled: bool, lang: str | None, now: int) -> None:
        """Switch a person's own digest on or off (the latest word wins)."""
        with self.engine.begin() as c:
            if not self._insert_new(c, _OPT, ["user_id"], user_id=user_id, enabled=enabled, lang=lang,
                                    updated_at=now):
                c.execute(update(_OPT).where(_OPT.c.user_id == user_id)
                          .values(enabled=enabled, lang=lang, updated_at=now))

    def digest_optin(self, user_id: str) -> OptInRow | None:
        with self.engine.connect() as c:
            r = c.execute(select(_OPT).where(_OPT.c.user_id == user_id)).first()
        return OptInRow(r.user_id, bool(r.enabled), r.lang, r.updated_at) if r else None

    def digest_optins(self) -> list[OptInRow]:
        """Everyone whose own digest is on, in the order they asked."""
        q = select(_OPT).where(_OPT.c.enabled.is_(True)).order_by(_OPT.c.updated_at, _OPT.c.user_id)
        with self.engine.connect() as c:
            return [OptInRow(r.user_id, bool(r.enabled), r.lang, r.updated_at) for r in c.execute(q)]

    # ------------------------------------------------------------------ replays and shares

    def first_sight(self, signature: str, request_ts: int, now: int) -> bool:
        """Record a signed request; False when the same signature and timestamp were recorded before
        (by this process or any other on the store): a replay, or Slack's own retry of a delivery."""
        with self.engine.begin() as c:
            return self._insert_new(c, _SEEN, ["signature", "request_ts"], signature=signature,
                                    request_ts=request_ts, seen_at=now)

    def prune_seen(self, before: int) -> int:
        """Forget requests whose timestamp is older than `before`: they fail the signature check's age
        test anyway, so they can never be replayed."""
        with self.engine.begin() as c:
            return c.execute(_SEEN.delete().where(_SEEN.c.request_ts < before)).rowcount

    def claim_share(self, answer_id: str, channel: str, user: str, now: int) -> tuple[bool, ShareRow]:
        """Take the one share of an answer into a channel: (True, it) for the first, else (False, the
        earlier one: who shared it and when)."""
        with self.engine.begin() as c:
            if self._insert_new(c, _SHARE, ["answer_id", "channel"], answer_id=answer_id, channel=channel,
                                shared_by=user, shared_at=now):
                return True, ShareRow(answer_id, channel, user, now)
            r = c.execute(select(_SHARE).where(and_(_SHARE.c.answer_id == answer_id,
                                                    _SHARE.c.channel == channel))).one()
            return False, ShareRow(r.answer_id, r.channel, r.shared_by, r.shared_at)

    def release_share(self, answer_id: str, channel: str, user: str) -> None:
        """Give a share back when posting it failed, so pressing Share again can succeed."""
        with self.engine.begin() as c:
            c.execute(_SHARE.delete().where(and_(_SHARE.c.answer_id == answer_id, _SHARE.c.channel == channel,
                                                 _SHARE.c.shared_by == user)))
