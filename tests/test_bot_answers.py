"""The plain functions behind /kpi, without Slack: limits, tables, sharing values, access, charts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import answers, blocks, charts, sharing
from bot.access import viewer_for
from bot.deps import BotDeps
from bot.lang import LanguageResolver
from config.access_models import AccessConfig
from config.app_config import AppConfig
from kpi_engine.engine import KpiEngine, RepInfo
from kpi_engine.grammar import parse
from tests.fixtures import load
from tests.test_bot_harness import NOW, tables

SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # logic over the engine, not SQL


@pytest.fixture
def deps(store, tmp_path):
    load(store, tmp_path / "csv", tables())
    config = AppConfig()
    return BotDeps(KpiEngine(store, config), config, None, lambda: NOW, LanguageResolver(config, None))


def check_limits(bks: list[dict]) -> None:
    assert len(bks) <= blocks.MAX_BLOCKS
    for b in bks:
        text = (b.get("text") or {}).get("text", "")
        assert len(text) <= (blocks.MAX_HEADER if b["type"] == "header" else blocks.MAX_TEXT)
        assert len(b.get("fields", [])) <= blocks.MAX_FIELDS
        for el in b.get("elements", []):
            assert len(el.get("value", "")) <= blocks.MAX_BUTTON_VALUE
            if isinstance(el.get("text"), str):
                assert len(el["text"]) <= blocks.MAX_TEXT


@SQLITE
def test_a_long_breakdown_is_cut_with_and_n_more(deps):
    a = deps.engine.answer(parse("revenue by rep 2026-05"), NOW)
    rows = [blocks.TableRow(i, f"Rep number {i} with a rather long name", f"฿{i:,}") for i in range(1, 301)]
    bks = blocks.answer_blocks(a, lang="en", rows=rows, share_value="x")
    check_limits(bks)
    table = next(b["text"]["text"] for b in bks if "```" in (b.get("text") or {}).get("text", ""))
    assert "and 275 more" in table and "25  Rep number 25" in table and "26  Rep" not in table


def test_table_columns_line_up_with_thai_labels():
    rows = [blocks.TableRow(1, "สมชาย ใจดี", "฿1,000"), blocks.TableRow(2, "Nok", "฿10,000,000"),
            blocks.TableRow(None, "รวมทีม ent", "฿10,001,000", total=True)]
    text = blocks.table_text(rows, "ตัวแทนขาย", "รายได้", "th")
    lines = [x for x in text.split("\n") if x and not x.startswith("```")]
    assert len({blocks.display_width(x) for x in lines}) == 1, lines


def test_sparkline():
    assert blocks.sparkline([1, 2, 3, None, 8]) == "▁▂▃·█"
    assert blocks.sparkline([None, None]) == ""
    assert blocks.sparkline([5, 5]) == "▄▄"


def test_share_values_round_trip_and_stay_under_slacks_limit():
    value = sharing.encode("รายได้ เดือนนี้ by rep", NOW)
    assert value and len(value) <= 2000
    assert sharing.decode(value, NOW.tzinfo) == ("รายได้ เดือนนี้ by rep", NOW.replace(microsecond=0))
    assert sharing.encode("x" * 3000, NOW) is None
    assert sharing.decode("not json", NOW.tzinfo) is None and sharing.decode('{"q": 1}', NOW.tzinfo) is None


def test_corrections_replace_the_misunderstood_word():
    assert answers.corrected("wn rate last quarter", "wn rate", "win rate") == "win rate last quarter"
    assert answers.corrected("win rate by stage", "stage", "by team") == "win rate by team"
    assert answers.corrected("zzz", "zzz", "zzz") is None


def test_roles_map_to_what_people_see():
    access = AccessConfig(full=["UFULL"], unlisted="totals")
    rep = RepInfo("r1", "A", "ent", "bkk", "rep")
    assert viewer_for("U1", rep, access).scope == "self"
    assert viewer_for("U1", RepInfo("m", "M", "ent", None, "manager"), access).scope == "team"
    assert viewer_for("U1", RepInfo("h", "H", None, None, "head"), access).scope == "all"
    assert viewer_for("UFULL", rep, access).scope == "all"
    assert viewer_for("UX", None, access).scope == "totals"
    # not linked to a rep fails closed: company-wide totals unless the config says otherwise
    assert viewer_for("UX", None, AccessConfig()).scope == "company"
    assert viewer_for("UX", None, AccessConfig(unlisted="all")).scope == "all"


@SQLITE
def test_charts_are_pngs_and_fall_back_to_english_without_a_thai_font(deps, monkeypatch):
    q = parse("revenue 2026-05")
    a = deps.engine.answer(q, NOW)
    series, targets = deps.engine.series(q, NOW), deps.engine.target_series(q, NOW)
    assert len(series) == len(targets) == 12 and targets[-1][1] == 3000
    assert charts.render_trend(a, series, targets, "th").startswith(charts.PNG_MAGIC)
    monkeypatch.setattr(charts, "thai_font_family", lambda: None)
    assert charts.chart_lang("th") == "en"
    assert charts.render_trend(a, series, None, "th").startswith(charts.PNG_MAGIC)


QUESTIONS = st.one_of(
    st.text(max_size=600),
    st.lists(st.sampled_from(["revenue", "win rate", "by rep", "by team", "2026-Q2", "last month", "chart",
                              "rep:nok", "team:ent", "vs last year", "รายได้", "แยกตามทีม", "เดือนนี้", "help",
                              "by stage", "region:west", "2026-13", "ytd", "cac", "retention"]),
             max_size=6).map(" ".join),
)


@SQLITE
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=QUESTIONS, user=st.sampled_from(["U1", "UMGR", "UHEAD", "UOPS"]))
def test_every_question_gets_a_reply_within_slacks_limits(deps, text, user):
    reply = answers.answer_question(deps, text, user, NOW)
    assert reply.kind in ("answer", "help", "error", "denied") and reply.text.strip()
    check_limits(reply.blocks)


def test_names_cannot_break_out_of_the_table():
    rows = [blocks.TableRow(i, "```<!channel> & co", "฿1") for i in range(1, 200)]
    text = blocks.table_text(rows, "rep", "Revenue", "en")
    assert text.count("```") == 2 and "<!channel>" not in text and "&lt;!channel&gt; &amp; co" in text
    assert len(text) <= blocks.MAX_TEXT


@SQLITE
def test_sparklines_are_left_out_for_kpis_whose_answers_are_slow(deps):
    assert deps.trend_affordable("revenue")
    deps.record_answer("revenue", 0.5)  # 8 periods x 0.5 s of database work: too much for decoration
    assert not deps.trend_affordable("revenue") and deps.submit_trend("revenue", lambda: 1) is None
    for _ in range(12):
        deps.record_answer("revenue", 0.01)
    future = deps.submit_trend("revenue", lambda: 42)
    assert future is not None and future.result(timeout=5) == 42


SPECIAL_SYNTAX = ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S0TEAM>", "<@U2>", "<@U2|nok>", "<#C0SALES>",
                  "<https://example.invalid|click>", "<!date^1392734382^{date}|x>", "<", ">", "&lt;!here&gt;"]
WORDS = ["revenue", "win", "rate", "by", "rep", "team", "region:", "rep:", "team:", "2026-Q2", "this", "month",
         "chart", "vs", "last", "year", "xyzzy", "mars", "help", "รายได้"]
FUZZ_TEXT = st.one_of(
    st.lists(st.sampled_from(SPECIAL_SYNTAX + WORDS), min_size=1, max_size=8).map(" ".join),
    st.lists(st.sampled_from(SPECIAL_SYNTAX + WORDS), min_size=1, max_size=4).map("".join),
    st.text(alphabet=st.sampled_from(list("<>!@#|^&;revnu channelhere ")), max_size=40),
)


@SQLITE
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=FUZZ_TEXT)
def test_top_level_text_never_carries_slack_special_syntax(deps, text):
    """Whatever the question, the reply's top-level text (what notifications show) has no <!channel>,
    <@U…> or link syntax: Slack would act on it (ping a channel) although the blocks escape it."""
    for user in ("U1", "UOPS"):
        reply = answers.answer_question(deps, text, user, NOW)
        assert "<" not in reply.payload()["text"] and ">" not in reply.payload()["text"], (text, reply.kind)


def test_alert_and_admin_texts_escape_names_but_keep_the_configured_mention():
    from zoneinfo import ZoneInfo

    from bot import admin_blocks, alert_blocks

    view = alert_blocks.AlertView(
        rule_id="drop", title="<!channel> drop", severity="warning", kpi_name="Revenue <@U2>", unit="currency", currency="THB",
        lang="en", tz=ZoneInfo("Asia/Bangkok"), segment="", per=None, filters={}, state="firing",
        period_label="W19 <!here>", value=1.0, findings=["<!everyone> fell"], reason=None, since=None,
        fired_at=None, resolved_at=None, mention="<!subteam^S0SALES>")
    text, _ = alert_blocks.alert_message(view)
    assert text.startswith("<!subteam^S0SALES> ") and "<" not in text[len("<!subteam^S0SALES> "):]
    for text, _ in (alert_blocks.resolved_reply(view), alert_blocks.reminder_reply(view),
                    admin_blocks.rule_error_message(rule_id="r<!here>", rule_name="<!channel>", segment="<@U1>",
                                                    reason="<!everyone>", when=0, tz=ZoneInfo("UTC"), lang="en")):
        assert "<" not in text and ">" not in text, text
