"""A person's own weekly digest by DM: `/kpi digest on|off` and the Home tab's toggle.

Plain functions (the listeners and flows call them). Anyone may switch theirs on; what it covers is
decided when it is built, by the same access scopes as their answers (bot.access.digest_audience):
a manager gets their team's, a rep their own numbers, the head the company's.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot import blocks as bk
from bot.access import digest_audience
from bot.deps import BotDeps
from kpi_engine.ops import OpsStore

TOGGLE_ACTION = "kpibot_digest_toggle"

# `digest`, `digest on`, `digest off` (and Thai: สรุป เปิด / ปิด) right after /kpi
_COMMAND = re.compile(r"^\s*(digest|ไดเจสต์|สรุปรายสัปดาห์)(?:\s+(\S+))?\s*$", re.IGNORECASE)
_ON = {"on", "yes", "start", "subscribe", "เปิด", "รับ"}
_OFF = {"off", "no", "stop", "unsubscribe", "ปิด", "หยุด"}
_STATUS = {"", "status", "สถานะ"}

WORDS: dict[str, tuple[str, str]] = {
    "on_team": ("📬 Your team's weekly digest ({team}: your reps, your targets, your open alerts) will come "
                "here by DM when the digest goes out. `/kpi digest off` stops it.",
                "📬 สรุปประจำสัปดาห์ของทีม{team} (ตัวแทนขาย เป้าหมาย การแจ้งเตือน) จะส่งถึงคุณทาง DM ทุกสัปดาห์ "
                "พิมพ์ `/kpi digest off` เพื่อหยุด"),
    "on_self": ("📬 Your own weekly numbers will come here by DM when the digest goes out. "
                "`/kpi digest off` stops it.",
                "📬 ตัวเลขประจำสัปดาห์ของคุณจะส่งถึงคุณทาง DM ทุกสัปดาห์ พิมพ์ `/kpi digest off` เพื่อหยุด"),
    "on_company": ("📬 The company's weekly digest will come here by DM when the digest goes out. "
                   "`/kpi digest off` stops it.",
                   "📬 สรุปประจำสัปดาห์ของทั้งบริษัทจะส่งถึงคุณทาง DM ทุกสัปดาห์ พิมพ์ `/kpi digest off` เพื่อหยุด"),
    "off": ("🔕 Your weekly digest by DM is off. `/kpi digest on` starts it again.",
            "🔕 ปิดการส่งสรุปประจำสัปดาห์ทาง DM แล้ว พิมพ์ `/kpi digest on` เพื่อเปิดอีกครั้ง"),
    "status_on": ("📬 Your weekly digest by DM is on. `/kpi digest off` stops it.",
                  "📬 เปิดรับสรุปประจำสัปดาห์ทาง DM อยู่ พิมพ์ `/kpi digest off` เพื่อหยุด"),
    "status_off": ("Your weekly digest by DM is off. `/kpi digest on` sends you yours every week: your team's "
                   "if you manage one, your own numbers if you sell.",
                   "ยังไม่ได้เปิดรับสรุปประจำสัปดาห์ทาง DM พิมพ์ `/kpi digest on` เพื่อรับสรุปของทีมหรือของคุณทุกสัปดาห์"),
    "disabled": ("Personal digests are switched off in this workspace's configuration.",
                 "เวิร์กสเปซนี้ปิดการส่งสรุปส่วนตัวไว้"),
    "bad": ("`/kpi digest {word}`? Use `/kpi digest on` or `/kpi digest off`.",
            "`/kpi digest {word}`? ใช้ `/kpi digest on` หรือ `/kpi digest off`"),
    "home_title": ("*Weekly digest by DM*", "*สรุปประจำสัปดาห์ทาง DM*"),
    "home_on": ("📬 On: yours comes by DM every week.", "📬 เปิดอยู่: ส่งถึงคุณทาง DM ทุกสัปดาห์"),
    "home_off": ("Off. Switch it on to get your team's (or your own) numbers every week.",
                 "ปิดอยู่ เปิดเพื่อรับตัวเลขของทีม (หรือของคุณ) ทุกสัปดาห์"),
    "button_on": ("Send me mine", "เปิดรับ"),
    "button_off": ("Stop", "หยุดรับ"),
}


def t(key: str, lang: str, **kw) -> str:
    en, th = WORDS[key]
    return (th if lang == "th" else en).format(**kw)


def parse(text: str) -> str | None:
    """"on" | "off" | "status" for a digest subcommand, "?<word>" for a wrong one, None for a KPI question."""
    m = _COMMAND.match(text or "")
    if not m:
        return None
    word = (m.group(2) or "").casefold()
    if word in _ON:
        return "on"
    if word in _OFF:
        return "off"
    if word in _STATUS:
        return "status"
    return "?" + (m.group(2) or "")


def personal_enabled(deps: BotDeps) -> bool:
    return any(d.enabled and d.personal for d in deps.config.digests)


def is_on(deps: BotDeps, user_id: str) -> bool:
    row = OpsStore(deps.engine.store).digest_optin(user_id)
    return bool(row and row.enabled)


def switch(deps: BotDeps, user_id: str, on: bool, lang: str, now: datetime) -> str:
    """Switch the person's digest and say what they will get."""
    OpsStore(deps.engine.store).set_digest_optin(user_id, on, lang, int(now.timestamp()))
    if not on:
        return t("off", lang)
    aud = digest_audience(deps.engine, deps.config, user_id, lang)
    if aud is not None and aud.kind == "team":
        return t("on_team", lang, team=aud.label)
    if aud is not None and aud.kind == "self":
        return t("on_self", lang)
    return t("on_company", lang)


def command_reply(deps: BotDeps, user_id: str, text: str, lang: str, now: datetime) -> tuple[str, list[dict]]:
    """The answer to `/kpi digest …` (text, blocks)."""
    what = parse(text) or "status"
    if not personal_enabled(deps):
        msg = t("disabled", lang)
    elif what == "status":
        msg = t("status_on" if is_on(deps, user_id) else "status_off", lang)
    elif what.startswith("?"):
        msg = t("bad", lang, word=bk.escape(what[1:]))
    else:
        msg = switch(deps, user_id, what == "on", lang, now)
    return msg, bk.notice_blocks(msg)


def home_blocks(deps: BotDeps, user_id: str, lang: str) -> list[dict]:
    """The Home tab's toggle: where the person stands and one button to change it."""
    if not personal_enabled(deps):
        return []
    on = is_on(deps, user_id)
    return [{"type": "section", "block_id": "kpibot_digest_optin",
             "text": {"type": "mrkdwn", "text": f"{t('home_title', lang)}\n{t('home_on' if on else 'home_off', lang)}"},
             "accessory": bk.button(t("button_off" if on else "button_on", lang), TOGGLE_ACTION,
                                    "off" if on else "on", None if on else "primary")}]
