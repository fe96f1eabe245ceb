"""`/kpi` over real signed HTTP against the emulator: answers, language, help, did-you-mean, share, chart."""

from __future__ import annotations

from bot.blocks import SHARE_ACTION
from bot.charts import PNG_MAGIC
from kpi_engine import format as fmt
from kpi_engine.grammar import parse
from tests.test_bot_harness import NOW, SALES, message_text

# the service under test, wired to the emulator (fixtures `rig`, `make_rig`)
pytest_plugins = ["tests.test_bot_harness"]


def test_win_rate_by_team_is_acked_fast_and_answered_with_the_engines_number(rig):
    status, elapsed, body = rig.command("win rate by team 2026-Q2")
    assert status == 200 and elapsed < 3.0
    answer = rig.emu.wait_for(lambda e: e.ephemerals(user="U1")[0])
    expected = rig.engine.answer(parse("win rate by team 2026-Q2"), NOW)
    text = message_text(answer)
    assert fmt.value(expected.value, "ratio") in text  # 75.0 %
    assert "Win rate" in answer["blocks"][0]["text"]["text"]
    assert answer["source"] == "response_url"
    # the ranked table (a Block Kit table): smb (100 %) above ent (66.7 %), names as people read them
    table = next(b for b in answer["blocks"] if b["type"] == "table")
    cells = [[c["text"] for c in row] for row in table["rows"]]
    assert cells[0] == ["#", "Team", "Win rate"]
    assert [r[1] for r in cells[1:]] == ["SMB", "ENT"] and cells[2][2] == "66.7 %"
    assert table["column_settings"][-1] == {"align": "right"}
    assert any(b["type"] == "actions" for b in answer["blocks"])
    assert len(answer["blocks"]) <= 50


def test_thai_question_gets_a_thai_answer(rig):
    answer = rig.ask("รายได้ เดือนที่แล้ว")
    assert "รายได้" in answer["blocks"][0]["text"]["text"]
    assert "฿" in message_text(answer)


def test_thai_slack_locale_gets_thai_for_an_english_question(rig):
    answer = rig.ask("revenue last month", user="UTHAI")
    assert "รายได้" in answer["blocks"][0]["text"]["text"]


def test_help_list_and_empty_show_usage_and_the_catalogue(rig):
    for text in ("", "help", "list"):
        body = message_text(rig.ask(text))
        assert "/kpi" in body and "win_rate" in body and "content_engagement" in body, text


def test_misspelling_gets_did_you_mean_and_the_button_answers_the_fix(rig):
    error = rig.ask("wn rate last quarter")
    assert "Did you mean" in message_text(error)
    buttons = [el for b in error["blocks"] if b["type"] == "actions" for el in b["elements"]]
    assert buttons and buttons[0]["text"]["text"] == "win rate"
    status, _ = rig.click(error, buttons[0]["action_id"])
    assert status == 200
    fixed = rig.emu.wait_for(lambda e: [m for m in e.ephemerals(user="U1") if "Win rate" in message_text(m)][0])
    assert "Win rate" in fixed["blocks"][0]["text"]["text"]


def test_share_posts_the_same_answer_in_channel_naming_the_sharer(rig):
    answer = rig.ask("revenue 2026-05")
    status, _ = rig.click(answer, SHARE_ACTION)
    assert status == 200
    shared = rig.emu.wait_for(lambda e: e.messages(SALES)[0])
    text = message_text(shared)
    assert "<@U1>" in text
    assert fmt.value(rig.engine.answer(parse("revenue 2026-05"), NOW).value, "currency") in text
    assert not any(b["type"] == "actions" for b in shared["blocks"])


def test_chart_uploads_a_png_to_the_conversation(rig):
    answer = rig.ask("revenue chart")
    assert "Revenue" in message_text(answer)
    files = rig.emu.wait_for(lambda e: [f for f in e.files() if f["completed"]])
    assert files[0]["content"].startswith(PNG_MAGIC)
    assert files[0]["channels"] == [SALES]
