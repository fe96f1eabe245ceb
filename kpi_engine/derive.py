"""Columns derived from imported rows, kept current after every write."""

from __future__ import annotations

from sqlalchemy import Connection, text


def refresh_stage_exits(conn: Connection, opportunity_ids: list[str] | None = None) -> None:
    """Set stage_changes.exited_at = the opportunity's next stage change (kpis.md, time in stage).

    A correlated subquery rather than LEAD() in an UPDATE: it is the form both
    SQLite and PostgreSQL run, and it walks the primary-key index per opportunity.
    """
    sql = (
        "UPDATE stage_changes SET exited_at = ("
        " SELECT min(s2.entered_at) FROM stage_changes s2"
        " WHERE s2.opportunity_id = stage_changes.opportunity_id"
        " AND s2.entered_at > stage_changes.entered_at)"
    )
    if opportunity_ids is None:
        conn.execute(text(sql))
        return
    for i in range(0, len(opportunity_ids), 500):
        chunk = opportunity_ids[i : i + 500]
        params = {f"o{j}": v for j, v in enumerate(chunk)}
        marks = ", ".join(f":o{j}" for j in range(len(chunk)))
        conn.execute(text(f"{sql} WHERE opportunity_id IN ({marks})"), params)
