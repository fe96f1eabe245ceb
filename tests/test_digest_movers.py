"""Movers that matter, on the demo company with planted weeks: a segment moves when its week stands
out from its own trailing weeks (robust z) on at least min_sample deals in both weeks; one deal never
makes two movers and is named; at most `movers` of them, the largest impact on the company first."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.digest_blocks import digest_message
from config.app_config import AppConfig
from kpi_engine.engine import KpiEngine
from kpi_engine.importer import import_path
from kpi_engine.ops import OpsStore
from schedules.digest import build_digest
from tests.fixtures import write_csvs
from tests.test_sched_support import BKK, demo_store

AS_OF = datetime(2026, 11, 2, 9, 0, tzinfo=BKK)  # a Monday: the digest's week is W44 (26 Oct – 1 Nov)
WEEK = date(2026, 10, 26)
HISTORY = [WEEK - timedelta(weeks=k) for k in range(8, 0, -1)]  # W36 … W43
SPIKE_ACCOUNT = "Siam Retail Co., Ltd."


def _reps(store, team: str, region: str) -> list[str]:
    with store.connect() as c:
        return [r[0] for r in c.execute(text(
            "SELECT rep_id FROM reps WHERE team = :t AND region = :r AND left_on IS NULL AND hired_on < :h"
            " ORDER BY rep_id"), {"t": team, "r": region, "h": int(datetime(2026, 6, 1, tzinfo=BKK).timestamp())})]


def _deal(i: str, day: date, amount: float, rep: str, account: str = "ACC-PLANT") -> dict:
    closed = datetime(day.year, day.month, day.day, 11, 0)
    return {"opportunity_id": f"OPP-PLANT-{i}", "created_at": (closed - timedelta(days=20)).isoformat(),
            "status": "won", "amount": f"{amount:.0f}", "account_id": account, "owner_rep_id": rep,
            "closed_at": closed.isoformat(), "product": "POS Terminal"}


def _plant(store, tmp_path, weeks: dict[date, list[float]], spike: tuple[str, float] | None = None) -> None:
    """Won deals for the smb team's Bangkok reps, `weeks[monday]` = their amounts that week (spread over
    Monday–Friday); `spike`: one big deal (rep, amount) on the Wednesday of the digest's week."""
    smb = _reps(store, "smb", "bangkok")
    assert len(smb) >= 2, "the demo company has smb reps in Bangkok"
    deals = []
    for monday, amounts in weeks.items():
        for k, amount in enumerate(amounts):
            deals.append(_deal(f"{monday:%Y%m%d}-{k}", monday + timedelta(days=k % 5), amount, smb[k % len(smb)]))
    accounts = [{"account_id": "ACC-PLANT", "name": "Planted Buyers Co., Ltd.", "segment": "smb", "region": "bangkok"}]
    if spike is not None:
        rep, amount = spike
        deals.append(_deal("SPIKE", WEEK + timedelta(days=2), amount, rep, account="ACC-SIAM-RETAIL"))
        accounts.append({"account_id": "ACC-SIAM-RETAIL", "name": SPIKE_ACCOUNT, "segment": "smb",
                         "region": "bangkok"})
    import_path(store, write_csvs(tmp_path / "plant", {"accounts": accounts, "opportunities": deals}),
                config=AppConfig())


def _steady(n: int = 14, base: float = 120_000) -> list[float]:
    """n deals around `base`, a few percent apart (a normal week of many small deals)."""
    return [base * (1 + 0.08 * ((k * 7) % 5 - 2) / 2) for k in range(n)]


def _digest(store, **digest):
    cfg = AppConfig.model_validate({"digests": [{"chart": False, **digest}]})
    eng = KpiEngine(store, cfg)
    return eng, build_digest(eng, OpsStore(store), cfg, cfg.digests[0], AS_OF)


def test_a_broad_team_drop_is_a_mover_and_a_one_deal_spike_is_not(store, tmp_path):
    demo_store(store)
    public_north = _reps(store, "public", "north")
    assert public_north, "the demo company has a public-sector rep in the north"
    weeks = {m: _steady() for m in HISTORY}
    weeks[WEEK] = _steady(12, 40_000)  # twelve deals, all a third of the usual size: a broad drop
    _plant(store, tmp_path, weeks, spike=(public_north[0], 5_000_000))
    eng, d = _digest(store)

    drop = [m for m in d.movers if (m.kpi, m.dim, m.segment) == ("revenue", "team", "smb")]
    assert len(drop) == 1, [(m.kpi, m.dim, m.segment) for m in d.movers]
    [m] = drop
    assert m.good is False and m.now < m.before and m.z is not None and m.z <= -3
    assert m.n_now >= 10 and m.n_before >= 10  # rests on enough deals in both weeks
    assert m.deals == []  # no one deal explains it: it is broad
    assert m.label == "SMB"

    # the ฿5M deal by the public sector's one rep in the north doubles nobody's week on enough deals:
    # team public and region north rest on a deal or two, so neither is a mover
    assert not [x for x in d.movers if x.segment in ("public", "north")]
    assert not [x for x in d.movers if any(deal.id == "OPP-PLANT-SPIKE" for deal in x.deals)]
    # …though the company's revenue line does include it
    line = next(x for x in d.lines if x.key == "revenue")
    assert line.value >= 5_000_000

    assert len(d.movers) <= 5
    assert [x.score for x in d.movers] == sorted((x.score for x in d.movers), reverse=True)
    text_, blocks = digest_message(d)
    body = json.dumps(blocks, ensure_ascii=False)
    assert "Movers that matter" in body and "team *SMB*" in body


def test_one_deal_never_makes_two_movers_and_is_named(store, tmp_path):
    demo_store(store)
    _plant(store, tmp_path, {m: _steady() for m in [*HISTORY, WEEK]}, spike=(_reps(store, "smb", "bangkok")[0],
                                                                           6_000_000))
    eng, d = _digest(store)
    behind = [m for m in d.movers if any(x.id == "OPP-PLANT-SPIKE" for x in m.deals)]
    # the deal lifts team SMB and region Bangkok alike: it shows once, as the move it made, named
    assert len(behind) == 1, [(m.kpi, m.dim, m.segment, [x.id for x in m.deals]) for m in d.movers]
    [m] = behind
    assert (m.kpi, m.good) == ("revenue", True) and m.segment in ("smb", "bangkok")
    assert m.deals[0].account == SPIKE_ACCOUNT and m.deals[0].amount == pytest.approx(6_000_000)
    others = [x for x in d.movers if x is not m and x.kpi == "revenue" and x.segment in ("smb", "bangkok")]
    assert others == []
    _, blocks = digest_message(d)
    body = json.dumps(blocks, ensure_ascii=False)
    assert f"one deal, {SPIKE_ACCOUNT} ฿6.00M" in body


def test_movers_are_at_most_the_configured_number_by_impact(store, tmp_path):
    demo_store(store)
    weeks = {m: _steady() for m in HISTORY}
    weeks[WEEK] = _steady(12, 40_000)
    _plant(store, tmp_path, weeks)
    _, many = _digest(store, movers=5)
    _, one = _digest(store, movers=1)
    assert 1 <= len(many.movers) <= 5
    assert len(one.movers) == 1
    # the single one kept is the one with the largest impact on the company's value
    assert (one.movers[0].kpi, one.movers[0].dim, one.movers[0].segment) == \
        (many.movers[0].kpi, many.movers[0].dim, many.movers[0].segment)
    assert one.movers[0].score == max(m.score for m in many.movers)
