"""The disclosure rule through the real service (signed requests, the Slack emulator) on the demo company:
the narrow total of issue 10, complementary cells, people not linked to a rep, names in did-you-mean."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.service import start_bot
from config.access_models import AccessConfig
from config.app_config import AppConfig
from config.settings import Settings
from kpi_engine import demo
from kpi_engine import format as fmt
from kpi_engine.engine import KpiEngine
from kpi_engine.query import PeriodSpec, Query
from slack_emulator import SlackEmulator
from tests.test_bot_harness import SECRET, TOKEN, Rig, message_text

ANCHOR = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Bangkok"))
HIDDEN = "fewer than 3 reps"


@pytest.fixture
def demo_rig(store):
    demo.generate(store, seed=7, scale="small", anchor=ANCHOR)
    # the sandbox's access, explicitly: the head in `full`, everyone else by role; unlinked fail closed
    config = AppConfig(access=AccessConfig(full=["U0ANNA"], link_contact="Khun Anna (sales ops)"))
    engine = KpiEngine(store, config)
    emu = SlackEmulator(bot_token=TOKEN).start()
    for uid in ("U0ANNA", "U0MANAGER", "U0SOMCHAI", "U0NOBODY"):
        emu.add_user(uid, uid.lower(), locale="en-US")
    settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                        slack_api_base_url=emu.api_url, port=0)
    handle = start_bot(settings, config, engine, clock=lambda: NOW, host="127.0.0.1", port=0)
    try:
        yield Rig(emu, handle, engine, config)
    finally:
        handle.stop()
        emu.stop()


def _amount(rig: Rig, q: str) -> str:
    a = rig.engine.answer(rig.engine.parse(q), NOW)
    return fmt.value(a.value, a.spec.unit, a.currency, "en")


def _rows(message: dict) -> dict[str, str]:
    """The breakdown table as {label: value text}."""
    for b in message["blocks"]:
        if b["type"] == "table":
            return {row[-2]["text"]: row[-1]["text"] for row in b["rows"][1:]}
        t = (b.get("text") or {}).get("text", "")
        if "```" in t:
            lines = [ln for ln in t.strip("`").splitlines()[1:] if ln.strip()]
            return {ln[:20].strip(): ln[20:].strip() for ln in lines}
    raise AssertionError("no table in the answer")


def test_the_narrow_total_of_one_rep_is_hidden_from_a_rep_but_not_from_the_head(demo_rig):
    q = "revenue this year team:enterprise region:northeast"
    with demo_rig.engine.store.connect() as c:
        [(n,)] = c.execute(text("SELECT COUNT(*) FROM reps WHERE team = 'enterprise' AND region = 'northeast'"))
    assert n == 1  # she is alone in that cell: the total is her number
    amount = _amount(demo_rig, q)
    rep = message_text(demo_rig.ask(q, user="U0SOMCHAI"))
    assert HIDDEN in rep.lower() and amount not in rep
    assert amount in message_text(demo_rig.ask(q, user="U0ANNA"))
    # the manager of enterprise sees every rep of the team, her region's line included
    rows = _rows(demo_rig.ask("revenue by region this year team:enterprise", user="U0MANAGER"))
    assert amount in rows.values() and not [v for v in rows.values() if "hidden" in v]


def test_a_breakdown_never_leaves_one_hidden_cell_to_subtraction(demo_rig):
    for team in ("enterprise", "midmarket", "smb", "public", "partners"):
        answer = demo_rig.ask(f"revenue by region this year team:{team}", user="U0SOMCHAI")
        body = message_text(answer)
        rows = _rows(answer)
        hidden = [k for k, v in rows.items() if "hidden" in v]
        if re.search(r"Revenue · .*: ฿", body) and hidden:  # a shown team total
            # total minus the shown rows would give a single hidden cell away: never one alone
            assert len(hidden) != 1, (team, rows)
            assert all(HIDDEN in v for k, v in rows.items() if k in hidden)


def test_a_person_not_linked_to_a_rep_gets_company_totals_and_how_to_get_linked(demo_rig):
    total = message_text(demo_rig.ask("revenue this year", user="U0NOBODY"))
    assert _amount(demo_rig, "revenue this year") in total
    assert "not linked to a rep" in total and "Khun Anna (sales ops)" in total and "U0NOBODY" in total
    narrowed = demo_rig.ask("revenue this year team:enterprise", user="U0NOBODY")
    assert "company-wide totals only" in message_text(narrowed)
    assert _amount(demo_rig, "revenue this year team:enterprise") not in message_text(narrowed)
    # nothing hidden can be shared: no Share button on it
    assert not [el for b in narrowed["blocks"] if b["type"] == "actions" for el in b["elements"]
                if "share" in el.get("action_id", "")]
    by_team = _rows(demo_rig.ask("revenue by team this year", user="U0NOBODY"))
    assert by_team and all(v == "hidden: company totals only" for v in by_team.values())
    assert "rep-level numbers are not shared" in message_text(demo_rig.ask("revenue by rep this year",
                                                                           user="U0NOBODY"))
    assert demo_rig.post(demo_rig.emu.app_home_opened_event("U0NOBODY"))[0] == 200
    home = message_text(demo_rig.emu.wait_for(lambda e: e.home_view("U0NOBODY")))
    assert "not linked to a rep" in home
    assert fmt.value(demo_rig.engine.answer(Query("revenue", PeriodSpec("current", grain="month")), NOW).value,
                     "currency", "THB", "en") in home


def test_did_you_mean_and_refusals_name_only_reps_the_person_may_see(demo_rig):
    with demo_rig.engine.store.connect() as c:
        name, = c.execute(text("SELECT name FROM reps WHERE team = 'partners' AND role = 'rep' ORDER BY rep_id")).first()
    typo = name.split()[0][:-1] + name.split()[0][-1] * 2  # "Somchaii"
    rep = message_text(demo_rig.ask(f"revenue this year rep:{typo}", user="U0SOMCHAI"))
    assert name not in rep and "did you mean" not in rep.lower()
    head = message_text(demo_rig.ask(f"revenue this year rep:{typo}", user="U0ANNA"))
    assert name in head  # the head may see everyone: the suggestion names them
    refused = message_text(demo_rig.ask(f"revenue this year rep:{name}", user="U0SOMCHAI"))
    assert "own numbers only" in refused and name not in refused
    manager = message_text(demo_rig.ask(f"revenue this year rep:{typo}", user="U0MANAGER"))
    assert name not in manager


def test_personal_digests_follow_the_rule(demo_rig):
    from bot.access import digest_audience
    from config.schedule_models import DigestConfig
    from schedules.digest import build_digest

    eng, config = demo_rig.engine, demo_rig.config
    sub = DigestConfig(movers_by=["team", "region", "rep"])
    head = build_digest(eng, None, config, sub, NOW, chart=False,
                        audience=digest_audience(eng, config, "U0ANNA", "en"))
    nobody = build_digest(eng, None, config, sub, NOW, chart=False,
                          audience=digest_audience(eng, config, "U0NOBODY", "en"))
    # someone not linked: company totals as the head reads them, but no team, region or rep in it
    assert [ln.value for ln in nobody.lines] == [ln.value for ln in head.lines]
    assert not [m for m in nobody.movers if m.dim in ("team", "region", "rep")]
    assert all(not m.deals for m in nobody.movers)  # a single deal is one rep's number
    assert all(t.value is None for t in nobody.teams)
    assert any(t.value is not None for t in head.teams)
    # a rep's own digest: his own numbers, every one of them shown
    mine = build_digest(eng, None, config, sub, NOW, chart=False,
                        audience=digest_audience(eng, config, "U0SOMCHAI", "en"))
    assert mine.audience == "self" and not mine.teams
    assert not [ln for ln in mine.lines if ln.note and "Hidden" in ln.note]
