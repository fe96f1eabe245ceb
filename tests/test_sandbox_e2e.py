"""The sandbox end to end, in headless Chromium: `kpibot run` without Slack credentials on a fresh SQLite
file, the page, a typed `/kpi`, "Send digest now", an alert's Acknowledge.

Debian's chromium is driven by Playwright's Python package (no browser download). Screenshots land in
test-artifacts/ (gitignored); docs/sandbox.png is a copy of a good one.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.app_config import load_config
from config.settings import Settings
from kpi_engine import format as fmt
from kpi_engine.grammar import parse
from kpibot.run import start_service

CHROMIUM = os.environ.get("KPIBOT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BKK = ZoneInfo("Asia/Bangkok")
# A Wednesday: the demo company's CAC spike is the week before, its retention drop the quarter before.
NOW = datetime(2026, 5, 13, 12, 0, tzinfo=BKK)
# Generous: on a 2-core machine shared with other test runs a step can take many seconds; every wait
# ends as soon as its event happens, so a long limit costs nothing when things are quick.
WAIT_MS = 60_000
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed "
                               "(pip install -e '.[dev]')")
if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set KPIBOT_CHROMIUM)",
                allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = tmp_path_factory.mktemp("sandbox") / "kpibot.db"
    settings = Settings(database_url=f"sqlite:///{db}", port=0, _env_file=None)
    config = load_config()
    # the sandbox's Head of Sales (not a rep in the demo company) as config/default.toml names her
    access = config.access.model_copy(update={"full": sorted({*config.access.full, "U0ANNA"})})
    handle = start_service(settings, config.model_copy(update={"access": access}), clock=lambda: NOW, demo_seed=7,
                           demo_scale="small", out=lambda line: None)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def page(service):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # The page must work offline: any request beyond this machine is a bug (a CDN, a font, an image).
        outside: list[str] = []
        page.route("**/*", lambda route: _local_only(route, outside))
        # these tests act as Somchai (a rep); the page itself opens as the Head of Sales (test_first_minute…)
        page.goto(service.url + "#user=U0SOMCHAI&channel=leadership")
        page.wait_for_selector("body[data-ready='1']", timeout=WAIT_MS)
        yield page
        assert not errors, f"JavaScript errors on the page: {errors}"
        assert not outside, f"the page tried to reach outside this machine: {outside}"
        browser.close()


def _local_only(route, outside: list[str]) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1:", "data:")):
        route.continue_()
    else:
        outside.append(url)
        route.abort()


def shoot(page, name: str) -> Path:
    path = ARTIFACTS / f"sandbox-{name}.png"
    page.screenshot(path=str(path))
    return path


def _image_loaded(page, selector: str) -> None:
    """Wait until the first image matching `selector` has loaded and decoded.

    The page's images are loading="lazy": one outside the viewport (or in a panel still opening) is
    not even requested, and waiting for the network to go idle can end before the request starts.
    The page swaps in a new node for a message Slack changed (a thread reply, an edit), so the
    condition looks the image up afresh on every try and scrolls that one into view.
    """
    page.wait_for_function(
        """sel => {
            const img = document.querySelector(sel);
            if (!img) return false;
            img.scrollIntoView({block: "nearest"});
            return img.complete && img.naturalWidth > 0;
        }""", arg=selector, polling=100, timeout=WAIT_MS)


def _scroll_to_message(page, text: str, block: str = "nearest") -> None:
    """Scroll the first message containing `text` into view, looking it up in the same step.

    A locator's scroll resolves the node first and scrolls it after; if the message changed in between
    (its chart arrived in the thread) the node it holds is gone and Playwright raises "not attached".
    """
    page.wait_for_function(
        """([text, block]) => {
            const node = [...document.querySelectorAll(".msg")].find((m) => m.innerText.includes(text));
            if (!node) return false;
            node.scrollIntoView({block});
            return true;
        }""", arg=[text, block], polling=100, timeout=WAIT_MS)


def open_channel(page, channel_id: str) -> None:
    page.click(f".channel-item[data-channel='{channel_id}']")
    page.wait_for_selector(f".channel-item.active[data-channel='{channel_id}']", timeout=WAIT_MS)


def test_kpi_command_answers_with_the_engines_value(service, page):
    open_channel(page, "leadership")
    question = "win rate this quarter"
    answer = service.engine.answer(parse(question), NOW)
    expected = fmt.value(answer.value, answer.spec.unit, answer.currency)
    assert answer.value is not None

    page.fill("#composer-input", f"/kpi {question}")
    page.press("#composer-input", "Enter")
    reply = page.locator(".msg-ephemeral").last
    reply.wait_for(timeout=WAIT_MS)

    assert "Only visible to you" in reply.inner_text()
    assert reply.locator(".bk-header").inner_text() in {
        f"{answer.spec.name(lang)} · {fmt.period_label(answer.period, lang)}" for lang in ("en", "th")
    }
    assert expected in reply.locator(".bk-section").first.inner_text()
    # The answer is the bot's, delivered through the response_url of a signed slash command.
    delivered = service.emulator.ephemerals(user="U0SOMCHAI", channel="leadership")[-1]
    assert delivered["source"] == "response_url" and expected in delivered["text"]
    shoot(page, "kpi-answer")


def test_share_button_posts_the_answer_to_the_channel(service, page):
    before = len(service.emulator.messages("leadership"))
    page.locator(".msg-ephemeral").last.locator("button.bk-button.bk-primary").click()
    service.emulator.wait_for(lambda e: len(e.messages("leadership")) > before, timeout=WAIT_MS / 1000)
    # the page shows it once its next poll sees it: wait for the text, not for any last message
    shared = page.locator(".msg:not(.msg-ephemeral)").last
    sync_api.expect(shared).to_contain_text("Somchai", timeout=WAIT_MS)  # names who shared it


def test_a_new_message_leaves_the_others_in_place(service, page):
    """A poll that brings one new message swaps in that message only: the others keep their nodes
    (their images stay loaded, the reader's selection and anything holding a node stay valid)."""
    open_channel(page, "leadership")
    page.locator(".msg").first.wait_for(timeout=WAIT_MS)
    page.evaluate("() => document.querySelectorAll('#messages .msg').forEach((m) => { m.__kept = true; })")
    before = page.locator("#messages .msg").count()
    page.fill("#composer-input", "/kpi revenue this month")
    page.press("#composer-input", "Enter")
    sync_api.expect(page.locator("#messages .msg")).to_have_count(before + 1, timeout=WAIT_MS)
    kept = page.evaluate("() => [...document.querySelectorAll('#messages .msg')].map((m) => m.__kept === true)")
    assert kept[:before] == [True] * before and kept[before:] == [False], kept


def test_send_digest_now_shows_the_digest(service, page):
    open_channel(page, "leadership")
    before = page.locator(".msg:not(.msg-ephemeral)").count()
    page.click("#send-digest")
    digest = page.locator(".msg:not(.msg-ephemeral)").nth(before)
    digest.wait_for(timeout=WAIT_MS)
    posted = [m for m in service.emulator.messages("leadership")
              if (m.get("metadata") or {}).get("event_type") == "kpibot_digest"]
    assert posted, "the digest was not posted with kpibot_digest metadata"
    header = next(b for b in posted[-1]["blocks"] if b["type"] == "header")["text"]["text"]
    shown = page.locator(".msg", has_text=header).first
    shown.wait_for(timeout=WAIT_MS)
    shoot(page, "digest")


def test_digest_thread_opens_with_its_chart(service, page):
    open_channel(page, "leadership")
    digest = page.locator(".msg", has=page.locator(".thread-link")).last
    digest.wait_for(timeout=WAIT_MS)
    digest.locator(".thread-link").click()
    panel = page.locator("#thread-panel")
    sync_api.expect(panel).to_be_visible(timeout=WAIT_MS)
    chart = panel.locator("img.bk-image-img").first
    chart.wait_for(timeout=WAIT_MS)
    # The chart was uploaded with files_upload_v2 to the emulator and is served by the page itself.
    assert chart.get_attribute("src").startswith("/files/")
    _image_loaded(page, "#thread-panel img.bk-image-img")
    shoot(page, "digest-thread")
    page.click("#thread-close")
    sync_api.expect(panel).to_be_hidden(timeout=WAIT_MS)


def test_acknowledging_an_alert_changes_the_message(service, page):
    open_channel(page, "sales-alerts")
    page.click("#run-alerts")
    alert = page.locator(".msg", has=page.locator("button.bk-button", has_text="Acknowledge")).first
    alert.wait_for(timeout=WAIT_MS)
    ts = alert.get_attribute("data-ts")
    before = alert.inner_text()

    # Somchai is a rep: the demo's alerts are company-wide, so he is told privately who can (in Thai,
    # his Slack's language), and the alert stays as it was
    alert.locator("button.bk-button", has_text="Acknowledge").click()
    refusal = page.locator(".msg-ephemeral", has_text="เฉพาะ").last
    refusal.wait_for(timeout=WAIT_MS)
    assert not service.emulator.message("sales-alerts", ts).get("edited")

    # the Head of Sales may (she is in [access] full)
    page.select_option("#user-switch", "U0ANNA")
    open_channel(page, "sales-alerts")
    page.locator(f".msg[data-ts='{ts}'] button.bk-button", has_text="Acknowledge").click()
    # The bot edits the alert in place (chat.update) and the page redraws it without a reload.
    service.emulator.wait_for(lambda e: e.message("sales-alerts", ts).get("edited"), timeout=WAIT_MS / 1000)
    changed = page.locator(f".msg[data-ts='{ts}']")
    sync_api.expect(changed).to_contain_text("Anna", timeout=WAIT_MS)  # names who acknowledged
    sync_api.expect(changed).to_contain_text("(edited)", timeout=WAIT_MS)
    assert changed.inner_text() != before
    shoot(page, "alert-acknowledged")
    page.select_option("#user-switch", "U0SOMCHAI")  # the tests after this one act as Somchai again


def test_home_tab_is_published_for_the_selected_person(service, page):
    page.click("#home-link")
    service.emulator.wait_for(lambda e: e.home_view("U0SOMCHAI"), timeout=WAIT_MS / 1000)
    sync_api.expect(page.locator(".home-view")).to_contain_text("Somchai", timeout=WAIT_MS)
    shoot(page, "home")


def test_switching_person_changes_whose_answers_are_shown(service, page):
    """Anna (Head of Sales, English Slack) sees her own ephemerals, not Somchai's; the overview shot."""
    page.select_option("#user-switch", "U0ANNA")
    open_channel(page, "leadership")
    sync_api.expect(page.locator(".msg-ephemeral")).to_have_count(0, timeout=WAIT_MS)
    digest = page.locator(".msg", has=page.locator(".thread-link")).last
    if digest.count():
        digest.locator(".thread-link").click()
        _image_loaded(page, "#thread-panel img.bk-image-img")
    page.fill("#composer-input", "/kpi win rate by team this quarter")
    page.press("#composer-input", "Enter")
    reply = page.locator(".msg-ephemeral").last
    reply.wait_for(timeout=WAIT_MS)
    answer = service.engine.answer(parse("win rate by team this quarter"), NOW)
    assert reply.locator(".bk-header").inner_text().startswith(answer.spec.name("en"))
    assert fmt.value(answer.value, answer.spec.unit, answer.currency) in reply.inner_text()
    page.locator("#toasts").evaluate("node => node.replaceChildren()")
    page.wait_for_load_state("networkidle")
    shoot(page, "overview")


# ------------------------------------------------------------------ the first minute; a manager's own digest
# (self-contained: each opens its own tab in the same browser, as a newcomer would)


def _new_tab(service, page, fragment: str = "", height: int = 900):
    context = page.context.browser.new_context(viewport={"width": 1440, "height": height}, locale="en-US")
    tab = context.new_page()
    outside: list[str] = []
    tab.route("**/*", lambda route: _local_only(route, outside))
    tab.goto(service.url + fragment)
    tab.wait_for_selector("body[data-ready='1']", timeout=WAIT_MS)
    return tab, outside


def _emoji_font_drawn(tab) -> None:
    """The page's own emoji font (sandbox/fonts.py) loaded and used: no boxes on a bare machine."""
    from sandbox.fonts import emoji_font

    assert emoji_font() is not None, "no emoji font in sandbox/vendor/fonts: run `make install`"
    tab.wait_for_function("() => [...document.fonts].some(f => f.family.includes('Noto Color Emoji')"
                          " && f.status === 'loaded')", timeout=WAIT_MS)


def test_first_minute_opens_as_the_head_of_sales_in_the_bot_dm(service, page):
    tab, outside = _new_tab(service, page)
    assert tab.locator("#user-switch").input_value() == "U0ANNA"
    tab.wait_for_selector(".channel-item.active[data-channel='D0ANNA']", timeout=WAIT_MS)
    card = tab.locator(".empty-card")
    sync_api.expect(card.locator("h2")).to_have_text("Try these", timeout=WAIT_MS)
    assert "/kpi digest on" in card.inner_text()
    shoot(tab, "first-minute")

    card.locator("[data-run-command='/kpi revenue this month']").click()
    reply = tab.locator(".msg-ephemeral").last
    reply.wait_for(timeout=WAIT_MS)
    answer = service.engine.answer(parse("revenue this month"), NOW)
    assert fmt.value(answer.value, answer.spec.unit, answer.currency) in reply.inner_text()
    _emoji_font_drawn(tab)  # the answer's 🟢/🔴 and 🎯
    assert not outside, outside
    tab.context.close()


def test_a_managers_personal_digest_arrives_in_their_dm(service, page):
    tab, outside = _new_tab(service, page, "#user=U0MANAGER&channel=D0MANAGER", height=1200)
    tab.fill("#composer-input", "/kpi digest on")
    tab.press("#composer-input", "Enter")
    confirm = tab.locator(".msg-ephemeral").last
    confirm.wait_for(timeout=WAIT_MS)
    assert "Your team's weekly digest (Enterprise" in confirm.inner_text()

    tab.click("#send-digest")  # the channel's digest was sent earlier this week: the manager's is new
    posted = service.emulator.wait_for(
        lambda e: [m for m in e.messages("D0MANAGER") if (m.get("metadata") or {}).get("event_type") == "kpibot_digest"],
        timeout=WAIT_MS / 1000)
    assert posted[0]["metadata"]["event_payload"]["to"] == "U0MANAGER"
    digest = tab.locator(".msg", has_text="Enterprise team · W19 2026").first
    digest.wait_for(timeout=WAIT_MS)
    text = digest.inner_text()
    assert "Your reps · Revenue" in text and "Pacing vs target" in text and "/kpi digest off" in text
    _emoji_font_drawn(tab)
    _scroll_to_message(tab, "Enterprise team · W19 2026")
    shoot(tab, "manager-digest")
    assert not outside, outside
    tab.context.close()


def test_the_head_of_sales_digest_for_the_readme(service, page):
    """The screenshot in the README (copied to docs/sandbox.png): the digest in #leadership."""
    tab, outside = _new_tab(service, page, "#user=U0ANNA&channel=leadership", height=1250)
    digest = tab.locator(".msg", has_text="Weekly digest · W19 2026").first
    digest.wait_for(timeout=WAIT_MS)
    assert "By team · Revenue" in digest.inner_text()
    _emoji_font_drawn(tab)
    tab.locator("#toasts").evaluate("node => node.replaceChildren()")
    _scroll_to_message(tab, "Weekly digest · W19 2026", block="start")
    tab.wait_for_load_state("networkidle")
    shoot(tab, "head-digest")
    assert not outside, outside
    tab.context.close()
