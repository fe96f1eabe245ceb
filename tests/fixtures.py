"""A small hand-made company whose every KPI value is worked out by hand in test_kpis.py.

Rows are written as people write CSVs (ISO strings in Bangkok time, or with Z)
and loaded through the real importer, so the tests read what a user's import
would store.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

TABLES: dict[str, list[dict]] = {
    "reps": [
        {"rep_id": "r1", "name": "Somchai Jaidee", "team": "ent", "region": "bkk", "slack_user_id": "U1",
         "hired_on": "2025-01-01"},
        {"rep_id": "r2", "name": "Nok Srisuk", "team": "smb", "region": "north", "slack_user_id": "U2"},
        {"rep_id": "r3", "name": "Lek Thongdee", "team": "ent", "region": "bkk", "left_on": "2026-03-31"},
    ],
    "accounts": [
        {"account_id": "a1", "segment": "enterprise", "region": "bkk", "churned_at": "2026-05-01"},
        {"account_id": "a2", "segment": "smb", "region": "north"},
        {"account_id": "a3", "segment": "smb", "region": "bkk"},
        {"account_id": "a4", "segment": "smb", "region": "north"},
    ],
    "leads": [
        {"lead_id": "L1", "created_at": "2026-03-25", "channel": "referral", "owner_rep_id": "r1",
         "qualified_at": "2026-03-27"},
        {"lead_id": "L2", "created_at": "2026-04-02", "channel": "social", "owner_rep_id": "r2",
         "qualified_at": "2026-04-05T12:00:00"},
        {"lead_id": "L3", "created_at": "2026-04-03", "channel": "social", "owner_rep_id": "r2"},
        {"lead_id": "L4", "created_at": "2026-04-10", "channel": "referral", "owner_rep_id": "r1",
         "qualified_at": "2026-06-20"},
    ],
    "opportunities": [
        {"opportunity_id": "o1", "created_at": "2026-04-01", "status": "won", "amount": "1000", "account_id": "a1",
         "owner_rep_id": "r1", "closed_at": "2026-04-11", "lead_id": "L1", "product": "X"},
        {"opportunity_id": "o2", "created_at": "2026-04-05", "status": "won", "amount": "3000", "account_id": "a2",
         "owner_rep_id": "r2", "closed_at": "2026-05-05", "product": "Y"},
        {"opportunity_id": "o3", "created_at": "2026-04-10", "status": "lost", "account_id": "a3",
         "owner_rep_id": "r1", "closed_at": "2026-05-10", "product": "X"},
        {"opportunity_id": "o4", "created_at": "2026-03-01", "status": "won", "amount": "500", "account_id": "a1",
         "owner_rep_id": "r3", "closed_at": "2026-03-15", "product": "X"},
        {"opportunity_id": "o5", "created_at": "2026-05-01", "status": "open", "owner_rep_id": "r2"},
        # 20:00 UTC on 30 April is 03:00 on 1 May in Bangkok: a May deal
        {"opportunity_id": "o6", "created_at": "2026-04-20", "status": "won", "amount": "2000", "account_id": "a3",
         "owner_rep_id": "r1", "closed_at": "2026-04-30T20:00:00Z", "product": "Y"},
    ],
    "stage_changes": [
        {"opportunity_id": "o1", "stage": "prospecting", "entered_at": "2026-04-01"},
        {"opportunity_id": "o1", "stage": "proposal", "entered_at": "2026-04-03"},
        {"opportunity_id": "o1", "stage": "prospecting", "entered_at": "2026-04-06"},
        {"opportunity_id": "o1", "stage": "won", "entered_at": "2026-04-11"},
    ],
    "activities": [
        {"activity_id": "act1", "rep_id": "r1", "type": "call", "occurred_at": "2026-04-02"},
        {"activity_id": "act2", "rep_id": "r1", "type": "email", "occurred_at": "2026-04-03"},
        {"activity_id": "act3", "rep_id": "r2", "type": "meeting", "occurred_at": "2026-04-04"},
        {"activity_id": "act4", "rep_id": "r3", "type": "call", "occurred_at": "2026-04-05"},
    ],
    "orders": [
        {"order_id": "ord1", "account_id": "a2", "ordered_at": "2026-04-20", "amount": "100"},
        {"order_id": "ord2", "account_id": "a2", "ordered_at": "2026-05-02", "amount": "300"},
        {"order_id": "ord3", "account_id": "a3", "ordered_at": "2025-12-01", "amount": "50"},
        {"order_id": "ord4", "account_id": "a4", "ordered_at": "2025-05-01", "amount": "80"},
    ],
    "spend": [
        {"date": "2026-04-01", "channel": "referral", "category": "marketing", "amount": "3000", "period": "month"},
        {"date": "2026-04-10", "channel": "outbound", "category": "sales", "amount": "600"},
    ],
    "forecasts": [
        {"period": "2026-04", "amount": "1200", "submitted_at": "2026-03-20"},
        {"period": "2026-04", "amount": "900", "submitted_at": "2026-04-10"},
        {"period": "2026-05", "amount": "4000", "submitted_at": "2026-05-10"},
    ],
    "targets": [
        {"period": "2026-04", "metric": "revenue", "value": "3000"},
        {"period": "2026-05", "metric": "revenue", "value": "3000"},
        {"period": "2026-06", "metric": "revenue", "value": "3000"},
        # the quarter's own row: the monthly rows above already cover it, so it must not count twice
        {"period": "2026-Q2", "metric": "revenue", "value": "9000"},
        {"period": "2026-Q2", "metric": "revenue", "value": "4000", "team": "ent"},
        {"period": "2026-Q2", "metric": "revenue", "value": "5000", "team": "smb"},
        {"period": "2026-04", "metric": "win_rate", "value": "0.5"},
    ],
    "surveys": [
        {"response_id": "s1", "responded_at": "2026-04-03", "score": "5", "account_id": "a1", "rep_id": "r1"},
        {"response_id": "s2", "responded_at": "2026-04-04", "score": "3", "account_id": "a2", "rep_id": "r2"},
        {"response_id": "s3", "responded_at": "2026-04-05", "score": "4", "account_id": "a2", "rep_id": "r2"},
    ],
    "trainings": [
        {"feedback_id": "t1", "held_on": "2026-04-08", "rating": "4", "rep_id": "r1"},
        {"feedback_id": "t2", "held_on": "2026-04-09", "rating": "5", "rep_id": "r2"},
    ],
    "content_events": [
        {"event_id": "c1", "content_id": "deck", "occurred_at": "2026-04-02", "action": "view", "rep_id": "r1"},
        {"event_id": "c2", "content_id": "deck", "occurred_at": "2026-04-03", "action": "share", "rep_id": "r1"},
        {"event_id": "c3", "content_id": "faq", "occurred_at": "2026-04-04", "action": "view", "rep_id": "r2"},
    ],
}


def write_csvs(folder: Path, tables: dict[str, list[dict]] = TABLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        cols: list[str] = []
        for r in rows:
            cols += [c for c in r if c not in cols]
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
    return folder


def load(engine, folder: Path, tables: dict[str, list[dict]] = TABLES, config=None) -> None:
    from config.app_config import AppConfig
    from kpi_engine.importer import import_path

    import_path(engine, write_csvs(folder, tables), config=config or AppConfig())


def write(path: Path, data: str | bytes) -> Path:
    """A file with this text (dedented, its leading newline dropped) or these bytes, folders made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(textwrap.dedent(data).lstrip("\n"), encoding="utf-8")
    return path
