"""The question corpus (tests/corpus): every question read as intended, at a fixed as_of.

Prints the understanding rate of each part (seen: tuned on; held out: never tuned on) by language;
README.md states them. A question is understood when its KPI, period bounds, breakdown, ranking,
filters and comparison period all match, or when it is refused (or asked back) as intended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kpi_engine.engine import KpiEngine
from kpi_engine.query import HelpRequest, PeriodSpec, Query, QueryError
from kpi_engine.reading import for_user

CORPUS = Path(__file__).with_name("corpus")
BKK = ZoneInfo("Asia/Bangkok")
AS_OF = datetime(2026, 11, 18, 14, 30, tzinfo=BKK)
ASKER = ("U0SOMCHAI", "r1", "enterprise")

_REPS = [
    # rep_id, name, name_th, nickname, team, region, slack
    ("r1", "Somchai Jaidee", "สมชาย ใจดี", "Ton, ต้น", "enterprise", "bangkok", "U0SOMCHAI"),
    ("r2", "Wanida Srisuk", "วนิดา ศรีสุข", "Nok, นก", "smb", "north", "U0WANIDA"),
    ("r3", "Pornthip Saetang", "พรทิพย์ แซ่ตั้ง", "Pim, พิม", "midmarket", "central", "U0PORNTHIP"),
    ("r4", "Kittisak Wongsawat", "กิตติศักดิ์ วงศ์สวัสดิ์", "Golf, กอล์ฟ", "public", "northeast", "U0KITTI"),
    ("r5", "Siriporn Kongsuk", "ศิริพร คงสุข", "Fah, ฟ้า", "partners", "south", ""),
    ("r6", "Anan Rattanakorn", "อนันต์ รัตนากร", "Bank, แบงค์", "enterprise", "east", "U0ANAN"),
    ("r7", "Somsak Thongchai", "สมศักดิ์ ธงชัย", "Art, อาร์ต", "midmarket", "bangkok", ""),
    ("r8", "Somsak Kaewmanee", "สมศักดิ์ แก้วมณี", "Boy, บอย", "smb", "central", ""),
    ("r9", "Nattapong Sukprasert", "ณัฐพงษ์ สุขประเสริฐ", "Bee, บี", "smb", "bangkok", ""),
    ("mgr-ent", "Malee Phromma", "มาลี พรหมมา", "Jeab, เจี๊ยบ", "enterprise", "bangkok", "U0MANAGER"),
]
_PRODUCTS = ["ERP Cloud", "POS Terminal", "HR & Payroll Suite", "Data Analytics Platform", "Cloud Backup",
             "Managed Security"]
_CHANNELS = ["referral", "social", "campaign", "event", "outbound", "website"]
_SEGMENTS = [("enterprise", "bangkok"), ("mid-market", "central"), ("smb", "north"), ("smb", "south"),
             ("enterprise", "northeast"), ("mid-market", "east")]
_STAGES = ["prospecting", "qualification", "proposal", "negotiation", "closed"]

COMPANY: dict[str, list[dict]] = {
    "reps": [{"rep_id": r, "name": n, "name_th": th, "nickname": nick, "team": team, "region": region,
              "slack_user_id": slack, "role": "manager" if r.startswith("mgr") else "rep"}
             for r, n, th, nick, team, region, slack in _REPS],
    "accounts": [{"account_id": f"a{i}", "segment": seg, "region": reg} for i, (seg, reg) in enumerate(_SEGMENTS)],
    "leads": [{"lead_id": f"L{i}", "created_at": "2026-10-01", "channel": ch, "owner_rep_id": "r1"}
              for i, ch in enumerate(_CHANNELS)],
    "opportunities": [{"opportunity_id": f"o{i}", "created_at": "2026-09-01", "status": "won", "amount": "1000",
                       "account_id": "a0", "owner_rep_id": "r1", "closed_at": "2026-10-01", "product": p}
                      for i, p in enumerate(_PRODUCTS)],
    "stage_changes": [{"opportunity_id": "o0", "stage": st, "entered_at": f"2026-09-0{i + 1}"}
                      for i, st in enumerate(_STAGES)],
}


@pytest.fixture(scope="module")
def engine(corpus_engine):
    return corpus_engine


@dataclass
class Case:
    part: str
    line: int
    text: str
    expect: str
    unlinked: bool

    @property
    def thai(self) -> bool:
        return bool(re.search("[\u0e00-\u0e7f]", self.text))

    @property
    def refusal(self) -> bool:
        return self.expect.split()[0] in ("refuse", "ask")


def cases(part: str) -> list[Case]:
    out = []
    for k, raw in enumerate((CORPUS / f"{part}.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("# ") or raw.strip() == "#":
            continue
        text, _, expect = raw.rpartition("  =>  ")
        unlinked = text.startswith("[unlinked] ")
        out.append(Case(part, k, text.removeprefix("[unlinked] ").strip(), expect.strip(), unlinked))
    return out


def _instant(s: str) -> datetime:
    if s == "now":
        return AS_OF
    if "T" in s:
        return datetime.fromisoformat(s).replace(tzinfo=BKK)
    return datetime.fromisoformat(s + "T00:00").replace(tzinfo=BKK)


def _bounds(s: str) -> tuple[datetime, datetime]:
    a, b = s.split("..")
    return _instant(a), _instant(b)


def expected(engine: KpiEngine, case: Case) -> dict:
    kind = case.expect.split()[0]
    if kind in ("refuse", "ask", "help"):
        return {"outcome": kind}
    exp: dict = {"outcome": "answer", "kpi": kind, "by": None, "rank": None, "filters": {}}
    spec = engine.catalogue[kind]
    rest = case.expect[len(kind):]
    items = re.findall(r"(\w+)=(.+?)(?= \w+=|$)", rest)
    period = PeriodSpec("current", grain=spec.default_grain).resolve(AS_OF, BKK)
    exp["period"] = (period.start, period.end)
    vs = "prev"
    for key, value in items:
        value = value.strip()
        if key == "p":
            exp["period"] = _bounds(value)
        elif key == "vs":
            vs = value
        elif key == "by":
            exp["by"] = value
        elif key in ("top", "bottom"):
            best = "desc" if spec.higher_is_better else "asc"
            worst = "asc" if best == "desc" else "desc"
            exp["rank"] = (best if key == "top" else worst, int(value))
        else:
            exp["filters"][key] = value
    exp["vs"] = vs
    return exp


def read(engine: KpiEngine, case: Case) -> dict:
    """What the bot would answer: parsed with the store's names, "my" made the asker's, periods resolved."""
    try:
        q = engine.parse(case.text)
        if isinstance(q, HelpRequest):
            return {"outcome": "help"}
        assert isinstance(q, Query)
        user = (None, None) if case.unlinked else (ASKER[1], ASKER[2])
        q = for_user(q, *user)
        period, base = engine.periods_of(q, AS_OF)
        if q.filters:
            engine.answer(q, AS_OF)  # a value no data has ("channel:tiktok") is refused when answered
    except QueryError as exc:
        return {"outcome": "ask" if len(exc.choices) >= 2 else "refuse", "message": exc.message,
                "choices": exc.choices}
    return {"outcome": "answer", "kpi": q.kpi, "period": (period.start, period.end), "by": q.breakdown,
            "rank": None if q.rank is None else (q.rank.order, q.rank.n), "filters": dict(q.filters),
            "base": (base.start, base.end), "query": q, "period_obj": period}


def understood(engine: KpiEngine, case: Case) -> tuple[bool, str]:
    exp, got = expected(engine, case), read(engine, case)
    if exp["outcome"] in ("refuse", "ask"):
        if got["outcome"] not in ("refuse", "ask"):
            return False, f"answered instead of refusing: {_show(got)}"
        if exp["outcome"] == "ask" and got["outcome"] != "ask":
            return False, f"refused without choices: {got['message']}"
        if case.thai and not re.search("[\u0e00-\u0e7f]", got["message"]):
            return False, f"refused in English to a Thai question: {got['message']}"
        return True, ""
    if exp["outcome"] == "help":
        return got["outcome"] == "help", f"got {got['outcome']}: {got.get('message', '')}"
    if got["outcome"] != "answer":
        return False, f"{got['outcome']}: {got.get('message', '')}"
    from kpi_engine import periods

    vs = exp["vs"]
    if vs == "prev":
        p = got["period_obj"]
        want_base = periods.previous(p)
        exp_base = (want_base.start, want_base.end)
    elif vs == "yoy":
        y = periods.year_ago(got["period_obj"])
        exp_base = (y.start, y.end)
    else:
        exp_base = _bounds(vs)
    diffs = []
    for key in ("kpi", "period", "by", "rank", "filters"):
        if got[key] != exp[key]:
            diffs.append(f"{key}: got {got[key]!r}, want {exp[key]!r}")
    if got["base"] != exp_base:
        diffs.append(f"vs: got {got['base']!r}, want {exp_base!r}")
    return not diffs, "; ".join(diffs)


def _show(got: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in got.items() if k not in ("query", "period_obj"))


def _rate(results: list[tuple[Case, bool, str]]) -> str:
    n = len(results)
    ok = sum(1 for _, good, _ in results if good)
    return f"{ok}/{n} = {100 * ok / n:.1f} %" if n else "-"


def run_part(engine: KpiEngine, part: str) -> list[tuple[Case, bool, str]]:
    return [(c, *understood(engine, c)) for c in cases(part)]


def report(part: str, results: list[tuple[Case, bool, str]]) -> None:
    real = [r for r in results if not r[0].refusal and r[0].expect != "help"]
    print(f"\n{part}: all {_rate(results)}; questions to answer {_rate(real)} "
          f"(English {_rate([r for r in real if not r[0].thai])}, Thai {_rate([r for r in real if r[0].thai])}); "
          f"nonsense and unknown refused {_rate([r for r in results if r[0].refusal])}")
    for c, good, why in results:
        if not good:
            print(f"  {part}.txt:{c.line}: {c.text!r} => {c.expect}\n      {why}")


# a part still short of 90 % is gated at what it reads now, so it cannot slip back (README, Understanding
# rate): heldout28, people outside sales in their own words, was 35.5 % on its first run
GATE = {"heldout28": 0.70, "heldout30": 0.60}
PARTS = ("seen", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10", "heldout11", "heldout12", "heldout13", "heldout14", "heldout15", "heldout16", "heldout17", "heldout18", "heldout19", "heldout20", "heldout21", "heldout22", "heldout23", "heldout24", "heldout25", "heldout26", "heldout27", "heldout28", "heldout29", "heldout30", "heldout31", "heldout32", "heldout33", "heldout34")


def test_the_corpus_is_big_enough_and_thai_enough():
    allc = [c for part in PARTS for c in cases(part)]
    assert len(allc) >= 400
    assert sum(c.thai for c in allc) / len(allc) >= 0.40
    assert all(c.expect for c in allc)


def test_seen_questions_are_read_as_intended(engine):
    results = run_part(engine, "seen")
    report("seen", results)
    real = [r for r in results if not r[0].refusal]
    assert sum(good for _, good, _ in real) / len(real) >= 0.95
    assert all(good for c, good, _ in results if c.refusal), "every nonsense or unknown KPI is refused"


@pytest.mark.parametrize("part", ["heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10", "heldout11", "heldout12", "heldout13", "heldout14", "heldout15", "heldout16", "heldout17", "heldout18", "heldout19", "heldout20", "heldout21", "heldout22", "heldout23", "heldout24", "heldout25", "heldout26", "heldout27", "heldout28", "heldout29", "heldout30"])
def test_heldout_questions_are_read_as_intended(engine, part):
    results = run_part(engine, part)
    report(part, results)
    real = [r for r in results if not r[0].refusal]
    assert sum(good for _, good, _ in real) / len(real) >= GATE.get(part, 0.90)
    assert all(good for c, good, _ in results if c.refusal), "every nonsense or unknown KPI is refused"


def _reading(q: Query) -> tuple:
    return (q.kpi, q.period and replace(q.period, text=""), q.breakdown, sorted(q.filters.items()), q.compare,
            q.rank, q.mine)


def test_chat_words_around_a_question_never_change_its_reading(engine):
    # a greeting before it or a particle after it is chat; neither may eat a word that means something
    # ("พี่ครับ ผมปิดได้กี่ดีล": the ผม is the asker, though "ครับผม" alone is a polite particle)
    around = {False: (("hey ", "can you show me ", ""), ("", " please", " thanks 🙏")),
              True: (("พี่ครับ ", "รบกวนขอดู", ""), ("", "ครับ", " หน่อยนะคะ"))}
    changed = []
    for part in PARTS:
        for case in cases(part):
            try:
                q = engine.parse(case.text)
            except QueryError:
                continue
            if not isinstance(q, Query):
                continue
            before, after = around[case.thai]
            for text in {f"{a}{case.text}{b}" for a in before for b in after} - {case.text}:
                try:
                    other = engine.parse(text)
                except QueryError:
                    continue  # asked back is safe; answering something else is not
                if not isinstance(other, Query) or _reading(other) != _reading(q):
                    changed.append(text)
    assert changed == []
