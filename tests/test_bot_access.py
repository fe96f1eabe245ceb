"""Who sees what, through the real service: reps, managers, heads, people who are not reps, other workspaces."""

from __future__ import annotations

import json

from config.access_models import AccessConfig
from tests.test_bot_harness import message_text

# the service under test, wired to the emulator (fixtures `rig`, `make_rig`)
pytest_plugins = ["tests.test_bot_harness"]


def table_of(message: dict) -> str:
    """The breakdown table's text, whether a Block Kit table or a code block."""
    for b in message["blocks"]:
        if b["type"] == "table":
            return "\n".join(" ".join(c["text"] for c in row) for row in b["rows"])
        if "```" in (b.get("text") or {}).get("text", ""):
            return b["text"]["text"]
    raise AssertionError("no table in the answer")


def test_a_rep_asking_by_rep_sees_own_line_and_team_total_only(rig):
    answer = rig.ask("revenue by rep 2026-Q2", user="U1")
    table = table_of(answer)
    assert "Somchai Jaidee" in table and "ENT total" in table
    assert "Nok" not in table and "Lek" not in table
    # the team total is team ent's Q2 revenue: o1 (1,000) + o6 (2,000), never the company's 6,000
    assert "฿3,000" in message_text(answer) and "฿6,000" not in message_text(answer)


def test_a_rep_asking_for_another_rep_is_refused_politely(rig):
    answer = rig.ask("revenue rep:nok 2026-Q2", user="U1")
    assert "own numbers" in message_text(answer) and "฿3,000" not in message_text(answer)
    mention = rig.ask("revenue rep:<@U2|nok> 2026-Q2", user="U1")
    assert "own numbers" in message_text(mention)


def test_a_rep_may_ask_for_their_own_numbers_by_mention(rig):
    answer = rig.ask("revenue rep:<@U1|somchai> 2026-Q2", user="U1")
    assert "฿3,000" in message_text(answer)  # o1 + o6


def test_a_manager_sees_their_teams_reps(rig):
    answer = rig.ask("revenue by rep 2026-Q2", user="UMGR")
    table = table_of(answer)
    assert "Somchai Jaidee" in table and "Nok" not in table
    refused = rig.ask("revenue rep:nok 2026-Q2", user="UMGR")
    assert "own team" in message_text(refused)


def test_a_head_and_a_full_user_see_every_rep(make_rig):
    r = make_rig(AccessConfig(full=["U2"], unlisted="totals", min_reps=2))
    for user in ("UHEAD", "U2"):
        table = table_of(r.ask("revenue by rep 2026-Q2", user=user))
        assert "Somchai Jaidee" in table and "Nok Srisuk" in table
    # with unlisted = "totals", someone who is not a rep gets totals but no rep lines
    assert "rep-level numbers are not shared" in message_text(r.ask("revenue by rep 2026-Q2", user="UOPS"))
    assert "฿6,000" in message_text(r.ask("revenue 2026-Q2", user="UOPS"))


def test_a_request_from_another_workspace_is_refused_without_side_effects(rig):
    calls = len(rig.emu.calls())
    status, _, body = rig.command("revenue", user="U1", team_id="T0OTHER")
    assert status == 200 and b"own workspace" in body
    home = rig.emu.app_home_opened_event("U1").replace(b"T0SANDBOX", b"T0OTHER")
    assert rig.post(home)[0] == 200
    rig.barrier(user="U2")  # whatever the refused requests set off has been taken up by now
    assert not [c.method for c in rig.emu.calls()[calls:] if '"U1"' in json.dumps(c.params)]
    assert rig.emu.ephemerals(user="U1") == [] and rig.emu.home_view("U1") is None


def test_home_tab_shows_own_team_or_company_numbers(rig):
    for user, title, revenue in (("U1", "Your numbers, Somchai Jaidee", "฿3,000"),
                                 ("UMGR", "Team ENT", "฿3,000"),
                                 ("UOPS", "Company", "฿6,000")):
        assert rig.post(rig.emu.app_home_opened_event(user))[0] == 200
        view = rig.emu.wait_for(lambda e, u=user: e.home_view(u))
        text = message_text(view)
        assert title in text and "Win rate" in text and "This quarter" in text
        assert revenue in text, (user, text)


def test_on_a_two_rep_company_a_rep_sees_no_total_that_is_a_colleagues_plus_their_own(make_rig):
    r = make_rig(AccessConfig(min_reps=2))
    # the company's Q2 revenue is Somchai's 3,000 and Nok's 3,000: Somchai would read Nok's off it
    company = message_text(r.ask("revenue 2026-Q2", user="U1"))
    assert "฿6,000" not in company and "fewer than 2 reps" in company
    assert "fewer than 2 reps" in message_text(r.ask("revenue 2026-Q2 team:smb", user="U1"))
    # his own team's total is his own number: shown
    assert "฿3,000" in message_text(r.ask("revenue 2026-Q2 team:ent", user="U1"))
    # the head sees it all; someone not linked to a rep sees the company total (two reps, neither visible)
    assert "฿6,000" in message_text(r.ask("revenue 2026-Q2", user="UHEAD"))
    ops = message_text(r.ask("revenue 2026-Q2", user="UOPS"))
    assert "฿6,000" in ops and "not linked to a rep" in ops
