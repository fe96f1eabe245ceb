"""Why a value is missing, or what to keep in mind about it, in English and Thai."""

from __future__ import annotations

NOTES: dict[str, tuple[str, str]] = {
    "no_data": ("No data for {period}.", "ไม่มีข้อมูลสำหรับช่วง {period}"),
    # the disclosure rule (kpi_engine.disclosure) hid the number from this person
    "hidden": ("Hidden: fewer than {k} reps are behind this number, and you may not see all of them.",
               "ซ่อนไว้: ตัวเลขนี้มาจากตัวแทนขายน้อยกว่า {k} คน ซึ่งคุณไม่มีสิทธิ์ดูทุกคน"),
    "hidden_company": ("Hidden: you see company-wide totals only, not a team's, a region's or a rep's.",
                       "ซ่อนไว้: คุณดูได้เฉพาะยอดรวมทั้งบริษัท ไม่ใช่ของทีม ภูมิภาค หรือตัวแทนขาย"),
    "outside_span": (
        "No data for {period}: {source} data covers {first} … {last}.",
        "ไม่มีข้อมูลช่วง {period}: ข้อมูล {source} ครอบคลุม {first} … {last}",
    ),
    "empty_source": (
        "No {source} data has been imported yet.",
        "ยังไม่มีการนำเข้าข้อมูล {source}",
    ),
    "no_won_deals": ("No won deals closed in {period}.", "ไม่มีดีลที่ชนะในช่วง {period}"),
    "no_won_deals_with_lead": (
        "No won deals with a known lead closed in {period}.",
        "ไม่มีดีลที่ชนะซึ่งมี lead ต้นทางในช่วง {period}",
    ),
    "no_closed_deals": ("No deals were won or lost in {period}.", "ไม่มีดีลที่ปิด (ชนะหรือแพ้) ในช่วง {period}"),
    "no_leads": ("No leads were created in {period}.", "ไม่มี lead ที่สร้างในช่วง {period}"),
    "no_qualified_leads": ("No leads were qualified in {period}.", "ไม่มี lead ที่ผ่านการคัดกรองในช่วง {period}"),
    "no_active_reps": ("No reps were active in {period}.", "ไม่มีตัวแทนขายที่ทำงานในช่วง {period}"),
    "no_new_customers": (
        "No new customers in {period}, so cost per new customer cannot be computed.",
        "ไม่มีลูกค้าใหม่ในช่วง {period} จึงคำนวณต้นทุนต่อลูกค้าใหม่ไม่ได้",
    ),
    "no_customers": ("No customer bought in {period}.", "ไม่มีลูกค้าที่ซื้อในช่วง {period}"),
    "no_active_customers": (
        "No customers were active at the start of {period}.",
        "ไม่มีลูกค้าที่ active ณ ต้นช่วง {period}",
    ),
    "no_orders": ("No orders in {period}.", "ไม่มีคำสั่งซื้อในช่วง {period}"),
    "no_responses": ("No survey responses in {period}.", "ไม่มีแบบสำรวจในช่วง {period}"),
    "no_training_feedback": ("No training feedback for {period}.", "ไม่มีผลประเมินการอบรมในช่วง {period}"),
    "no_stage_exits": ("No deal left a stage in {period}.", "ไม่มีดีลที่ออกจากขั้นตอนใดในช่วง {period}"),
    "no_recent_wins": (
        "Not enough closed deals in the 90 days before the end of {period} to compute velocity.",
        "ดีลที่ปิดใน 90 วันก่อนสิ้นช่วง {period} ไม่พอสำหรับคำนวณความเร็ว",
    ),
    "no_revenue_data": ("No revenue data for {period} to compare with.", "ไม่มีข้อมูลรายได้ช่วง {period} ให้เทียบ"),
    "zero_base_revenue": (
        "Revenue in {period} was 0, so growth cannot be computed.",
        "รายได้ช่วง {period} เป็น 0 จึงคำนวณการเติบโตไม่ได้",
    ),
    "no_target": ("No {metric} target covers {period}.", "ไม่มีเป้า {metric} สำหรับช่วง {period}"),
    "period_not_complete": (
        "Forecast accuracy needs a completed month, quarter or year; {period} is not complete.",
        "ความแม่นยำของการคาดการณ์ต้องใช้เดือน ไตรมาส หรือปีที่จบแล้ว ช่วง {period} ยังไม่จบ",
    ),
    "no_forecast": ("No forecast was submitted for {period}.", "ไม่มีการส่งยอดคาดการณ์สำหรับ {period}"),
    "zero_actual": (
        "Actual revenue in {period} was 0, so accuracy cannot be computed.",
        "รายได้จริงช่วง {period} เป็น 0 จึงคำนวณความแม่นยำไม่ได้",
    ),
    "low_sample": (
        "Low sample: only {n} items (fewer than {min}); read with care.",
        "ตัวอย่างน้อย: มีเพียง {n} รายการ (น้อยกว่า {min}) โปรดใช้ด้วยความระมัดระวัง",
    ),
}


def render(code: str | None, args: dict, lang: str = "en") -> str | None:
    if code is None:
        return None
    en, th = NOTES.get(code, (code, code))
    template = th if lang == "th" else en
    try:
        return template.format(**args)
    except (KeyError, IndexError):
        return template
