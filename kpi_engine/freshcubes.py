"""Day sums of a first load of opportunities, grouped from the rows the importer writes.

A first import rebuilds the cubes of the 'closed' and 'created' facts (kpi_engine.facts). From the
stored rows each cube is a GROUP BY over the whole table, and SQLite sorts every row for each of the
five: 3.3 s of a first import of 1M opportunities. The importer holds each batch of parsed rows as it
writes them, so the cubes are summed here batch by batch in numpy instead (0.2 µs a row), and kept
as partial sums per key and day: memory grows with keys x days, not with rows.

The meaning is the facts' SQL, written out for these two facts: the same rows (won and lost deals by
close; every deal by creation), the same keys ('' for a missing rep, product or segment; a customer's
segment from the accounts table, which no row of this file changes), the same local days, the same
sums (added in another order: equal to about 1e-15). Everything else (other facts, derived cubes,
running totals) is still built from the rows. tests/test_rollups.py compares a first import with a
rebuild from the rows on both databases.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np

from kpi_engine.calc import DAY

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from kpi_engine.facts import DayClock

_COLUMNS = ("created_at", "closed_at", "status", "amount", "owner_rep_id", "product", "account_id")
_STATUS = {"open": 0, "won": 1, "lost": 2}
_DAYS = 1 << 20  # a cell is key * 2**21 + day + 2**20: days within ±2,800 years of 1970
_COMPACT = 200_000  # partial cells kept per cube before they are summed again
_MISSING = ""  # the key of a missing rep, product, segment or (lost deals) cycle bin, as the SQL's COALESCE


class _Sums:
    """Sums per cell of one cube, added batch by batch."""

    def __init__(self, width: int):
        self.width = width
        self.cells: list[np.ndarray] = []
        self.sums: list[np.ndarray] = []
        self.pending = 0

    def add(self, cell: np.ndarray, measures: list[np.ndarray | None]) -> None:
        u, where = np.unique(cell, return_inverse=True)
        self.cells.append(u)
        self.sums.append(np.stack([np.bincount(where, m, len(u)) for m in measures]))
        self.pending += len(u)
        if self.pending > _COMPACT:
            self.compact()

    def compact(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.cells:
            return np.zeros(0, np.int64), np.zeros((self.width, 0))
        u, where = np.unique(np.concatenate(self.cells), return_inverse=True)
        sums = np.concatenate(self.sums, axis=1)
        total = np.stack([np.bincount(where, row, len(u)) for row in sums])
        self.cells, self.sums, self.pending = [u], [total], len(u)
        return u, total


class FreshOpportunities:
    """The day sums of the 'closed' and 'created' cubes over the opportunities a first load writes."""

    CUBES = (("closed", "rep"), ("closed", "product"), ("closed", "segment"), ("closed", "cbin"),
             ("created", "rep"))

    def __init__(self, clock: DayClock):
        self.clock = clock
        self.sums = {c: _Sums(4 if c[0] == "closed" else 1) for c in self.CUBES}
        self.rows = 0
        self._get: list[itemgetter] | None = None
        self._reps: dict[str | None, int] = {None: 0}
        self._products: dict[str | None, int] = {None: 0}
        self._segments: dict[str, int] = {_MISSING: 0}
        self._segment_of: dict[str, int] | None = None  # account id -> index in _segments
        self._offsets: tuple[int, int, np.ndarray, np.ndarray] | None = None

    def __bool__(self) -> bool:
        return self.rows > 0

    def add(self, conn: Connection, dbcols: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        if self._get is None:
            self._get = [itemgetter(dbcols.index(c)) for c in _COLUMNS]
            self._segment_of = self._read_segments(conn)
        n = len(rows)
        self.rows += n
        created, closed, status, amount, rep, product, account = (list(map(g, rows)) for g in self._get)
        rep_c = _coded(self._reps, rep, n)
        created_t = np.array(created, dtype=np.int64)
        self.sums["created", "rep"].add(_cells(rep_c, self._days(created_t)), [None])

        st = np.fromiter(map(_STATUS.__getitem__, status), np.int8, n)
        keep = st != 0  # won or lost; the importer requires closed_at of both
        if not keep.any():
            return
        won = st[keep] == 1
        t = np.array(closed, dtype=np.float64)[keep].astype(np.int64)  # None -> NaN (open deals, dropped)
        cyc = t - created_t[keep]
        measures = [won.astype(np.float64), (~won).astype(np.float64),
                    np.where(won, np.array(amount, dtype=np.float64)[keep], 0.0),
                    np.where(won, cyc, 0).astype(np.float64)]
        day = self._days(t)
        seg = self._segment_of
        segment_c = np.fromiter(map(seg.get, account, repeat(0)), np.int64, n)  # type: ignore[union-attr]
        whole = np.where(cyc >= 0, cyc // DAY, -(-cyc // DAY))  # SQL's integer division truncates
        bins = np.where(whole < 30, whole, np.where(whole < 380, 30 + (whole - 30) // 7, 80 + (whole - 380) // 30))
        bin_c = np.where(won, bins + _DAYS + 1, 0)  # 0: a lost deal, no cycle
        for name, key in (("rep", rep_c[keep]), ("product", _coded(self._products, product, n)[keep]),
                          ("segment", segment_c[keep]), ("cbin", bin_c)):
            self.sums["closed", name].add(_cells(key, day), measures)

    def day_sums(self, fact: str, cube: str) -> list[tuple] | None:
        """(k1, k2, day, v0, v1, v2, v3) of every key and day of this cube; None: not one of these."""
        if (fact, cube) not in self.sums or not self:
            return None
        cells, sums = self.sums[fact, cube].compact()
        keys = (cells >> 21).tolist()
        if cube == "cbin":
            names = [_MISSING if k == 0 else str(k - _DAYS - 1) for k in keys]
        else:
            table = {"rep": self._reps, "product": self._products, "segment": self._segments}[cube]
            by_code = [_MISSING] * len(table)
            for value, code in table.items():
                by_code[code] = _MISSING if value is None else value
            names = [by_code[k] for k in keys]
        days = ((cells & ((1 << 21) - 1)) - _DAYS).tolist()
        columns = [s.tolist() for s in sums] + [repeat(0.0)] * (4 - len(sums))
        return list(zip(names, repeat(""), days, *columns, strict=False))

    def _read_segments(self, conn: Connection) -> dict[str, int]:
        """Account id -> its segment's code, as the SQL's LEFT JOIN accounts reads it."""
        out = {}
        for account, segment in conn.exec_driver_sql("SELECT account_id, segment FROM accounts"):
            out[account] = self._segments.setdefault(segment or _MISSING, len(self._segments))
        return out

    def _days(self, t: np.ndarray) -> np.ndarray:
        """clock.day() of every instant, the zone's offset changes looked up once for a wide span."""
        lo, hi = int(t.min()), int(t.max())
        if self._offsets is None or lo < self._offsets[0] or hi > self._offsets[1]:
            if self._offsets is not None:
                lo, hi = min(lo, self._offsets[0]), max(hi, self._offsets[1])
            lo, hi = lo - 400 * DAY, hi + 400 * DAY  # later batches mostly fall inside
            changes = self.clock.transitions(lo, hi)
            self._offsets = (lo, hi, np.array([a for a, _ in changes], dtype=np.int64),
                             np.array([self.clock.offset(lo)] + [o for _, o in changes], dtype=np.int64))
        _, _, at, offsets = self._offsets
        if not len(at):
            return (t + offsets[0]) // DAY
        return (t + offsets[np.searchsorted(at, t, side="right")]) // DAY


def _coded(codes: dict, values: list, n: int) -> np.ndarray:
    for v in set(values).difference(codes):
        codes[v] = len(codes)
    return np.fromiter(map(codes.__getitem__, values), np.int64, n)


def _cells(key: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (key << 21) + (day + _DAYS)
