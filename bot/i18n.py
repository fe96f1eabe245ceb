"""Slack-only wording in English and Thai (numbers, periods and KPI words live in kpi_engine.format)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "trend": ("Trend, last {n} {grain}", "แนวโน้ม {n} {grain}ล่าสุด"),
    "did_you_mean": ("Did you mean:", "หมายถึง:"),
    "try_help": ("Type `/kpi help` for how to ask, `/kpi list` for the KPIs.",
                 "พิมพ์ `/kpi help` เพื่อดูวิธีถาม หรือ `/kpi list` เพื่อดูรายการ KPI"),
    "error": ("Sorry, something went wrong while answering that. It has been logged as request `{rid}`.",
              "ขออภัย เกิดข้อผิดพลาดระหว่างตอบคำถามนี้ บันทึกไว้แล้วด้วยรหัส `{rid}`"),
    "store_unavailable": ("Sorry, the KPI database can't be reached right now, so I can't answer. Please try again "
                          "in a few minutes (request `{rid}`).",
                          "ขออภัย ตอนนี้ติดต่อฐานข้อมูล KPI ไม่ได้ จึงยังตอบไม่ได้ โปรดลองใหม่ในอีกสักครู่ (รหัส `{rid}`)"),
    "store_error": ("Sorry, the KPI database has a problem, so I can't answer right now. It has been logged as "
                    "request `{rid}`.",
                    "ขออภัย ฐานข้อมูล KPI มีปัญหา จึงยังตอบไม่ได้ บันทึกไว้แล้วด้วยรหัส `{rid}`"),
    "working": ("Working on it: a few questions are ahead of yours. The answer will appear here.",
                "กำลังหาคำตอบ มีคำถามรออยู่ก่อนหน้าอีกไม่กี่ข้อ คำตอบจะแสดงที่นี่"),
    "busy": ("Sorry, I'm answering too many questions right now to take yours. Please try again in a minute.",
             "ขออภัย ตอนนี้มีคำถามเข้ามามากเกินไป จึงยังรับคำถามนี้ไม่ได้ โปรดลองใหม่ในอีกสักครู่"),
    "other_workspace": ("Sorry, this KPI bot only answers people in its own workspace.",
                        "ขออภัย บอทนี้ตอบเฉพาะผู้ใช้ในเวิร์กสเปซของบริษัทเท่านั้น"),
    "own_line_only": ("You see your own line and your team's total.",
                      "คุณเห็นเฉพาะตัวเลขของคุณและยอดรวมของทีม"),
    "own_line_no_team": ("You see your own line only.", "คุณเห็นเฉพาะตัวเลขของคุณ"),
    "team_only": ("Rep-level numbers for your team ({team}).", "ตัวเลขรายบุคคลของทีมคุณ ({team})"),
    "no_rep_numbers": ("Sorry, rep-level numbers are not shared with you. Ask for the total, or by team.",
                       "ขออภัย คุณไม่มีสิทธิ์ดูตัวเลขรายบุคคล ลองดูยอดรวมหรือแยกตามทีม"),
    # never names the other rep: who they are is itself something the asker may not see
    "other_rep": ("Sorry, you can see your own numbers only, not another rep's.",
                  "ขออภัย คุณดูได้เฉพาะตัวเลขของตัวเอง ไม่ใช่ของตัวแทนขายคนอื่น"),
    "unlinked_company": ("You see company-wide totals only: your Slack account is not linked to a rep. To see "
                         "your own or your team's numbers, ask {contact} to put your Slack member ID ({user}) "
                         "in the slack_user_id column of your row in reps.",
                         "คุณดูได้เฉพาะยอดรวมทั้งบริษัท เพราะบัญชี Slack ของคุณยังไม่ได้ผูกกับตัวแทนขาย "
                         "หากต้องการดูตัวเลขของคุณหรือทีม ขอให้ {contact} ใส่ Slack member ID ({user}) "
                         "ในคอลัมน์ slack_user_id ของแถวคุณในตาราง reps"),
    "unlinked_none": ("Sorry, KPI numbers are shared only with people linked to a rep, and your Slack account "
                      "is not. Ask {contact} to put your Slack member ID ({user}) in the slack_user_id column "
                      "of your row in reps.",
                      "ขออภัย ตัวเลข KPI แชร์เฉพาะผู้ที่ผูกกับตัวแทนขาย และบัญชี Slack ของคุณยังไม่ได้ผูก "
                      "ขอให้ {contact} ใส่ Slack member ID ({user}) ในคอลัมน์ slack_user_id ของแถวคุณในตาราง reps"),
    "other_team_rep": ("Sorry, you can see rep-level numbers for your own team ({team}) only.",
                       "ขออภัย คุณดูตัวเลขรายบุคคลได้เฉพาะทีมของคุณ ({team})"),
    "alert_only": ("Only {who} can {verb} this alert.", "เฉพาะ {who} เท่านั้นที่{verb}การแจ้งเตือนนี้ได้"),
    "verb_acknowledge": ("acknowledge", "รับทราบ"),
    "verb_snooze": ("snooze", "เลื่อน"),
    "verb_resolve": ("resolve", "ปิด"),
    "chart_in_dm": ("Your chart is in your direct messages with me, where only you can see it. Share the answer "
                    "to post it here with its chart.",
                    "ส่งกราฟไว้ในข้อความส่วนตัวระหว่างคุณกับบอทแล้ว เห็นได้เฉพาะคุณ กดแชร์คำตอบเพื่อโพสต์ที่นี่พร้อมกราฟ"),
    "already_shared": ("Already shared in <#{channel}> by <@{who}> at {when}.",
                       "คำตอบนี้แชร์ใน <#{channel}> แล้ว โดย <@{who}> เมื่อ {when}"),
    "shared_where": ("Shared by <@{who}> in <#{channel}> · {when}", "<@{who}> แชร์ใน <#{channel}> · {when}"),
    "team_total": ("{team} total", "รวมทีม {team}"),
    "chart_posted": ("Chart posted in this conversation.", "โพสต์กราฟในห้องสนทนานี้แล้ว"),
    "chart_failed": ("The chart could not be posted (request `{rid}`).", "โพสต์กราฟไม่สำเร็จ (รหัส `{rid}`)"),
    "chart_title": ("{kpi}, last {n} periods", "{kpi} {n} ช่วงล่าสุด"),
    "target_line": ("Target", "เป้าหมาย"),
    "current_mark": ("to date", "ถึงปัจจุบัน"),
    "usage_extra": ("Add `chart` for a trend chart (sent to you privately; Share posts it with the answer), `vs last year` for year over year. "
                    "`/kpi digest on` sends you your own weekly digest by DM (`off` stops it).",
                    "เติม `chart` เพื่อดูกราฟแนวโน้ม (ส่งให้คุณเป็นการส่วนตัว กดแชร์เพื่อโพสต์พร้อมคำตอบ) หรือ `เทียบปีที่แล้ว` เพื่อเทียบกับปีก่อน "
                    "พิมพ์ `/kpi digest on` เพื่อรับสรุปประจำสัปดาห์ของคุณทาง DM (`off` เพื่อหยุด)"),
    "catalogue": ("KPIs you can ask for", "KPI ที่ถามได้"),
    "how_to_ask": ("How to ask /kpi", "วิธีถาม /kpi"),
    "home_title": ("Your sales numbers", "ตัวเลขยอดขายของคุณ"),
    "home_you": ("Your numbers, {name}", "ตัวเลขของคุณ {name}"),
    "home_team": ("Team {team}", "ทีม {team}"),
    "home_company": ("Company", "ทั้งบริษัท"),
    "this_month": ("This month", "เดือนนี้"),
    "this_quarter": ("This quarter", "ไตรมาสนี้"),
    "updated": ("Updated {when}. Ask anything with `/kpi`, e.g. `/kpi win rate by team last quarter`.",
                "อัปเดต {when} ถามเพิ่มเติมด้วย `/kpi` เช่น `/kpi อัตราการชนะดีล ไตรมาสที่แล้ว แยกตามทีม`"),
    "empty_store": ("No data has been imported yet.", "ยังไม่มีการนำเข้าข้อมูล"),
    "as_of": ("as of {when}", "ณ {when}"),
}

GRAINS: dict[str, tuple[str, str]] = {
    "day": ("days", "วัน"),
    "week": ("weeks", "สัปดาห์"),
    "month": ("months", "เดือน"),
    "quarter": ("quarters", "ไตรมาส"),
    "year": ("years", "ปี"),
    "days": ("periods", "ช่วง"),
}


def t(key: str, lang: str = "en", **kw) -> str:
    en, th = WORDS[key]
    return (th if lang == "th" else en).format(**kw)


def grain_word(grain: str, lang: str = "en") -> str:
    en, th = GRAINS.get(grain, ("periods", "ช่วง"))
    return th if lang == "th" else en
