"""Deal-level drivers: the largest won deals of a period and selection (what a digest names when
one or two deals explain a segment's move, "one deal, Siam Retail ฿570k")."""

from __future__ import annotations

from kpi_engine.calc import OPP_DIMS, Calc, num


def largest_won(c: Calc, n: int = 3) -> list[tuple[str, str, float]]:
    """(opportunity id, account name or id, amount) of the n largest won deals closed in P, largest first."""
    sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id", by=None)
    where = ["o.status = 'won'", "o.closed_at >= :s", "o.closed_at < :e", *sel.where]
    joins = [j for j in sel.joins if "accounts a" not in j]
    sql = ("SELECT o.opportunity_id, COALESCE(a.name, o.account_id, o.opportunity_id), o.amount"
           f" FROM opportunities o LEFT JOIN accounts a ON a.account_id = o.account_id {' '.join(joins)}"
           f" WHERE {' AND '.join(where)} ORDER BY o.amount DESC, o.opportunity_id LIMIT {int(n)}")
    return [(str(i), str(name), num(amt)) for i, name, amt in c.conn.execute(_text(sql), c.params(sel))]


def _text(sql: str):
    from kpi_engine.sql import text

    return text(sql)
