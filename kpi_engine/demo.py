"""The demo company: a believable Thai B2B seller of business software and hardware.

"Siam Nexus Technology" sells ERP, POS terminals, HR suites, analytics, networking,
backup and managed security to Thai companies and government agencies. Five teams
(enterprise, midmarket, smb, public, partners) of reps with romanised Thai names,
one manager each (rep_id ``mgr-<team>`` and ``role`` "manager"; everyone else "rep");
reps are hired and leave over time. Somchai Jaidee (``U0SOMCHAI``) is an enterprise
rep and the enterprise manager is ``U0MANAGER``, the users of the local Slack emulator.

History runs from the first day of the month 24 months before the anchor up to the
anchor (exclusive, 00:00 of the anchor date in the business zone). Business volume
grows ~30 % a year, is strong in December (year-end budgets; closes between mid
November and January are partly pulled into December), weak in April (Songkran,
12-16 April nearly stops and a third of April's closes slip into May), and the public team
closes into September (the Thai government fiscal year ends 30 September).
Weekends and Thai public holidays are quiet; closes land on working days.

Everything is drawn from one ``numpy.random.Generator(seed)`` in a fixed order, so a
seed + scale + anchor always gives the same rows. Tables are generated with
vectorised numpy; the big streams (activities, stage changes, content events and
the writes of every large table) go in chunks of ~200k rows.

Planted problems (both end at the anchor, for the alerting to find)
-------------------------------------------------------------------
1. **CAC spike.** The spike window is the last complete ISO week before the anchor
   (``DemoSummary.cac_spike_week``) plus, when the anchor is not a Monday, the days
   of the anchor's own week before it. In that window

   - the daily marketing rows (social, campaign, website) are multiplied by a
     factor (starting at 2.5, raised until the spike week's CAC is at least twice the
     median of the 8 complete weeks before it), a paid burst that bought nothing;
   - of the accounts whose first purchase falls in the window, only 40 % of a normal
     week's count (median of the 8 weeks before) stay customers; for the others every
     won deal in the window becomes ``lost`` and any order of theirs in it is dropped.
     The complete week keeps at least one new customer, so its CAC is defined: if it
     had none, one deal of a never-customer (lost that week, else still open) is won
     on its Wednesday.

   CAC is computed as kpis.md says: spend of all rows (monthly rows spread evenly
   over their month) ÷ accounts whose first purchase (won deal or order) is in the
   week.
2. **Retention drop.** Q is the most recent complete quarter before the anchor
   (``DemoSummary.retention_drop_quarter``), retention in activity mode with a
   365-day window: active at t = a purchase in [t − 365 d, t). A customer active at
   both ends of Q is lost by Q exactly when its purchases after the year-ago quarter
   W = [Q.start − 365 d, Q.end − 365 d) stop. So: among customers retained through Q
   that bought in W, enough are picked to bring Q's retention 10 points below the
   previous quarter's; each picked customer's purchases after its last purchase in
   W are removed (orders deleted, won deals turned ``lost``), and ``churned_at`` is
   set to that last purchase + 365 days. Membership of A(t) for every t ≤ Q.start is
   unchanged, so earlier quarters keep their retention.

The company starts the history with customers: 20 % as many accounts as it wins as
new logos during the history were buying before it began. They appear only through
their orders and upsell deals from the start on, so no row predates the history;
the price is that their first purchase in the data falls in its first months, which
makes CAC of those months look cheap (nothing recent is affected). Quarters whose
year-ago window lies in the history's first months, while the pipeline fills, still
retain a point or two more than later ones (measured over seeds: ~0.96, 0.93, 0.92
for the three quarters before the planted drop at small scale).

``accounts.churned_at`` = last purchase + 365 days wherever that is before the
anchor, so the ``churn_date`` retention mode tells the same story.

Targets: monthly revenue and deals_closed rows for the company (empty team and
rep), each team (empty rep) and each rep (rep_id set, team empty, so no row is
counted twice when a team's target is taken from its team rows); quarterly rows for
the company and teams equal the sum of their three months.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from kpi_engine import derive, periods, rollups
from kpi_engine.db import StoreError
from kpi_engine.facts import clock_for
from kpi_engine.models import TABLES

DAY = 86_400
WINDOW = 365 * DAY  # retention.window_days default (kpis.md)
SCALES = {"small": 2_000, "medium": 100_000, "large": 1_000_000}
MIN_OPPORTUNITIES = 500
# Ten times "large": ~30 GB of SQLite and all of it built in memory first; a number past this is a typo
# (zeros too many), and would fail as a MemoryError (or the OOM killer) minutes in
MAX_OPPORTUNITIES = 10_000_000
CHUNK = 200_000
HISTORY_MONTHS = 24
PAD_DAYS = 60  # calendar days after the anchor, for closes that land past it
NEVER = np.int64(2**62)
CURRENCY = "THB"
DOMAIN = "siamnexus.co.th"

TEAMS = ("enterprise", "midmarket", "smb", "public", "partners")
TEAM_SHARE = np.array([0.22, 0.22, 0.28, 0.13, 0.15])
REGIONS = ("bangkok", "central", "north", "northeast", "south", "east")
TEAM_REGION_P = np.array([
    [0.80, 0.05, 0.03, 0.02, 0.03, 0.07],
    [0.50, 0.12, 0.10, 0.08, 0.08, 0.12],
    [0.30, 0.14, 0.14, 0.16, 0.12, 0.14],
    [0.45, 0.15, 0.10, 0.12, 0.10, 0.08],
    [0.40, 0.12, 0.12, 0.12, 0.12, 0.12],
])
ACCOUNT_REGION_P = np.array([0.42, 0.15, 0.10, 0.12, 0.09, 0.12])
SEGMENTS = ("enterprise", "mid-market", "smb")
SEGMENT_P = np.array([0.14, 0.33, 0.53])
PUBLIC_SHARE = 0.10
PARTNER_SHARE = 0.15

CHANNELS = ("referral", "social", "campaign", "event", "outbound", "website")
CHANNEL_P = np.array([0.12, 0.22, 0.18, 0.10, 0.18, 0.20])
QUALIFY_P = np.array([0.55, 0.15, 0.25, 0.35, 0.22, 0.30])
QUALIFY_DAYS = np.array([1.5, 4.0, 3.0, 5.0, 7.0, 3.0])
WIN_P_CHANNEL = np.array([0.48, 0.24, 0.30, 0.36, 0.26, 0.33])
# which team a lead lands with before anyone qualifies it (partners get referrals)
CHANNEL_TEAM_P = np.array([
    [0.15, 0.15, 0.20, 0.10, 0.40],
    [0.10, 0.25, 0.55, 0.05, 0.05],
    [0.20, 0.30, 0.35, 0.10, 0.05],
    [0.30, 0.25, 0.20, 0.20, 0.05],
    [0.35, 0.35, 0.20, 0.10, 0.00],
    [0.10, 0.30, 0.50, 0.05, 0.05],
])
CPL_DAILY = {"social": 900.0, "campaign": 2_000.0, "website": 1_300.0}
CPL_MONTHLY = {"event": ("marketing", 5_500.0), "referral": ("marketing", 2_500.0),
               "outbound": ("sales", 2_200.0)}
PARTNER_SPEND_PER_LEAD = 350.0  # partner incentives (sales), per lead of the month

PRODUCTS = ("ERP Cloud", "POS Terminal", "HR & Payroll Suite", "Data Analytics Platform",
            "Network & Wi-Fi", "Cloud Backup", "Managed Security")
PRODUCT_P = np.array([  # by segment
    [0.28, 0.06, 0.14, 0.18, 0.14, 0.06, 0.14],
    [0.22, 0.12, 0.18, 0.12, 0.14, 0.12, 0.10],
    [0.10, 0.34, 0.18, 0.05, 0.10, 0.18, 0.05],
])
PRODUCT_FACTOR = np.array([1.6, 0.45, 0.8, 1.3, 1.0, 0.5, 1.1])
DEAL_MEDIAN_THB = np.array([1_800_000.0, 380_000.0, 85_000.0])
ORDER_MEDIAN_THB = np.array([320_000.0, 75_000.0, 18_000.0])
ORDERS_PER_YEAR = np.array([5.0, 4.0, 3.0])
CYCLE_DAYS_TEAM = np.array([85.0, 42.0, 18.0, 70.0, 35.0])

STAGES = ("prospecting", "qualification", "proposal", "negotiation", "closed")
STATUSES = ("open", "won", "lost")
OPEN, WON, LOST = 0, 1, 2
# stage paths: 0-2 for deals that are (or would be) won, 3-7 for lost ones
PATHS = ((0, 1, 2, 3, 4), (0, 1, 2, 3, 2, 3, 4), (0, 1, 2, 1, 2, 3, 4),
         (0, 4), (0, 1, 4), (0, 1, 2, 4), (0, 1, 2, 3, 4), (0, 1, 2, 3, 2, 4))
WON_PATH_P = np.array([0.84, 0.11, 0.05])
LOST_PATH_P = np.array([0.22, 0.30, 0.26, 0.16, 0.06])

ACTIVITY_TYPES = ("call", "email", "meeting", "other")
ACTIVITY_P = {"enterprise": [0.33, 0.30, 0.30, 0.07], "manager": [0.15, 0.30, 0.50, 0.05],
              "default": [0.45, 0.35, 0.14, 0.06]}
CONTENT_ACTIONS = ("view", "click", "share")
CONTENT_ACTION_P = np.array([0.70, 0.20, 0.10])
CONTENT = (
    "kb-erp-cloud-brochure-th", "kb-pos-terminal-datasheet", "kb-case-study-chiang-mai-hospital",
    "kb-webinar-erp-migration", "kb-hr-payroll-demo-video", "kb-pdpa-compliance-guide",
    "kb-analytics-roi-calculator", "kb-network-refresh-checklist", "kb-cloud-backup-pricing",
    "kb-security-assessment-offer", "kb-case-study-eastern-seaboard-factory", "kb-smb-starter-bundle",
    "kb-e-tax-invoice-explainer", "kb-retail-pos-line-integration", "kb-public-sector-egp-guide",
    "kb-partner-program-deck", "kb-erp-cloud-vs-on-prem", "kb-year-end-closing-tips",
    "kb-songkran-promo", "kb-customer-story-phuket-hotel",
)
TRAINING_SESSIONS = (
    "Consultative selling", "ERP Cloud product update", "Negotiation skills", "Public procurement (e-GP)",
    "Objection handling", "POS Terminal hands-on", "Pipeline hygiene in the CRM", "PDPA for sales",
    "Managed Security positioning", "Key account planning",
)
SURVEY_SCORE_P = np.array([0.03, 0.05, 0.12, 0.38, 0.42])
SURVEY_COMMENTS = (
    "ทีมขายให้คำแนะนำดีมาก", "ติดตั้งเร็ว ใช้งานง่าย", "ส่งของล่าช้ากว่าที่ตกลงไว้", "ราคาสูงไปนิด แต่บริการดี",
    "Great onboarding, thank you", "Support took too long to answer", "ประทับใจการบริการหลังการขาย",
    "Training for our staff was very useful", "อยากให้มีคู่มือภาษาไทยมากกว่านี้", "Invoice had errors twice",
)

MALE = ("Somsak", "Somkiat", "Anan", "Apichart", "Chaiwat", "Kittisak", "Nattapong", "Prasert", "Surachai",
        "Thanakorn", "Wichai", "Worawit", "Pongsakorn", "Sakda", "Teerapat", "Panya", "Jirayu", "Kritsada",
        "Narongrit", "Phuwadon", "Rattapong", "Sarawut", "Tanawat", "Weerapong", "Yutthana", "Chatchai",
        "Ekkachai", "Boonmee", "Arthit", "Pichit")
FEMALE = ("Siriporn", "Suda", "Malee", "Nittaya", "Pornthip", "Kanokwan", "Wanida", "Ratchanee", "Supaporn",
          "Jintana", "Araya", "Duangjai", "Kannika", "Lalita", "Napat", "Orathai", "Pimchanok", "Ploy",
          "Rungnapa", "Sasithorn", "Thitima", "Usa", "Wipawee", "Yupin", "Anchalee", "Benjawan", "Chanida",
          "Darunee", "Kulap", "Nongnuch")
SURNAMES = ("Jaidee", "Thongchai", "Saetang", "Srisuk", "Wongsawat", "Chaiyaporn", "Kongsuk", "Rattanakorn",
            "Sukprasert", "Boonyarat", "Phromma", "Kaewmanee", "Siriwat", "Tangsiri", "Chantarasiri",
            "Pattanapong", "Wattanakul", "Sombat", "Intarasuk", "Suwannarat", "Rungruang", "Charoenphon",
            "Kittikhun", "Limpisut", "Manee", "Nakprasit", "Ounjai", "Panyadee", "Rakthai", "Sangthong",
            "Thammasat", "Uthaiwan", "Vongvilai", "Yodkhum", "Buranasiri", "Chotiwat", "Damrongkiat",
            "Ekwattana", "Hongthong", "Jantarawong", "Khemthong", "Laohapan", "Meesuk", "Noppakun",
            "Praditphon", "Ruangsri", "Sirisombat", "Tansakul", "Wiriyakit", "Yimyam")
FIRST_NAMES = MALE + FEMALE
COMPANY_PREFIX = ("Siam", "Thai", "Chao Phraya", "Lanna", "Isan", "Andaman", "Rattanakosin", "Srisawat",
                  "Krungthep", "Chaiyo", "Sukhothai", "Ayutthaya", "Mekong", "Suvarnabhumi", "Ratchada",
                  "Sathorn", "Silom", "Pattana", "Charoen", "Mongkol", "Rungroj", "Sahapat", "Thanachart",
                  "Wattana", "Nakhon", "Phuket", "Khorat", "Chiang Mai", "Eastern Seaboard", "Golden Land")
COMPANY_TRADE = ("Logistics", "Foods", "Steel", "Motors", "Hospital", "Retail", "Agro", "Textile",
                 "Packaging", "Pharma", "Plastics", "Electronics", "Construction", "Rubber", "Seafood",
                 "Hotel Group", "Property", "Ceramics", "Furniture", "Auto Parts", "Beverage", "Cold Chain",
                 "Paper", "Chemicals", "Trading")
COMPANY_SUFFIX = ("Co., Ltd.", "Public Co., Ltd.", "Group")
PROVINCES = ("Chiang Mai", "Khon Kaen", "Nakhon Ratchasima", "Songkhla", "Phuket", "Chon Buri", "Rayong",
             "Udon Thani", "Ubon Ratchathani", "Ayutthaya", "Nonthaburi", "Pathum Thani", "Surat Thani",
             "Phitsanulok", "Lampang", "Chiang Rai", "Nakhon Si Thammarat", "Samut Prakan")
AGENCIES = ("Municipality", "Provincial Hospital", "Rajabhat University", "Provincial Administrative Organization",
            "Provincial Land Office", "Technical College")
EVENTS = ("Bangkok ERP Summit", "Thailand Smart Retail Expo", "Digital Thailand Big Bang", "Manufacturing Expo",
          "SME Day Bangkok", "Eastern Economic Corridor Forum")

SEASON = np.array([0.92, 0.96, 1.06, 0.72, 0.92, 1.00, 0.96, 1.00, 1.08, 1.00, 1.10, 1.28])
WEEKDAY = np.array([1.00, 1.05, 1.05, 1.00, 0.85, 0.12, 0.05])
# fixed-date Thai public holidays (month, day); the lunar ones move and are left out
HOLIDAYS = {(1, 1), (4, 6), (4, 13), (4, 14), (4, 15), (5, 1), (6, 3), (7, 28), (8, 12), (10, 13),
            (10, 23), (12, 5), (12, 10), (12, 31)}
GROWTH = math.log(1.30) / 365.0


class DemoError(StoreError):
    """The demo company cannot be written as asked; the message is for people.

    A StoreError, so every command that already turns store problems into one line does so here too.
    """


@dataclass
class DemoSummary:
    seed: int
    opportunities_asked: int
    anchor: date
    start: date
    tz: str
    counts: dict[str, int]
    cac_spike_week: str  # ISO week key, e.g. 2026-W47
    cac_spike_window: tuple[date, date]  # [first day, anchor)
    cac_spike_value: float  # CAC of cac_spike_week
    cac_trailing_median: float  # median weekly CAC of the 8 complete weeks before it
    cac_spend_factor: float
    retention_drop_quarter: str  # e.g. 2026-Q3
    retention_previous: float  # retention of the quarter before it
    retention_dropped: float
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def cac_spike_ratio(self) -> float:
        return self.cac_spike_value / self.cac_trailing_median


def generate(engine: Engine, *, seed: int = 7, scale: float | str = "small", anchor: date | None = None,
             tz: str = "Asia/Bangkok", progress: Callable[[str, int, int], None] | None = None,
             replace: bool = False, retention_window_days: int = 365) -> DemoSummary:
    """Fill the store with the demo company; see the module docstring for what is planted.

    scale: "small" (~2k opportunities), "medium" (100k), "large" (1M), or a number of
    opportunities (500 to 10M); leads are 3x and activities 10x that, other tables in proportion.
    progress(table, rows_written, rows_expected) is called after every chunk written.
    Refuses a store that holds any canonical row unless replace=True, which clears them first.
    The write-time rollups are built for `tz` and the retention window of the engine's config.
    """
    started = time.perf_counter()
    n_opps = opportunity_count(scale)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DemoError(f"unknown timezone {tz!r}") from exc
    anchor = anchor or periods.now(zone).date()
    if not replace:
        filled = _filled_tables(engine)
        if filled:
            raise DemoError(f"the store already holds data ({', '.join(filled)}); the demo company is only "
                            f"written into an empty store. Clear it first with replace=True (--replace), "
                            f"or point DATABASE_URL at another database.")
    company = _Company(np.random.default_rng(seed), _Calendar(zone, anchor), n_opps)
    company.build()
    writer = _writer(engine, progress, rollups.Rollups(clock_for(tz), {"w": retention_window_days * DAY}))
    ok = False
    try:
        if replace:
            writer.clear()
        company.write(writer)
        ok = True
    finally:
        writer.close(ok)
    _remember(engine, anchor, zone, tz)
    if ok:
        rollups.vacuum_analyze(engine, TABLES)
    return company.summary(seed, n_opps, tz, writer.counts, time.perf_counter() - started)


def _remember(engine: Engine, anchor: date, zone: ZoneInfo, tz: str) -> None:
    """The history is complete up to the anchor's midnight; the store holds the demo company, in baht."""
    from kpi_engine import freshness

    upto = int(datetime(anchor.year, anchor.month, anchor.day, tzinfo=zone).timestamp())
    with engine.begin() as conn:
        freshness.record(conn, list(TABLES), fresh_to=upto, origin="demo", now=int(time.time()))
        freshness.remember(conn, origin="demo", currency=CURRENCY, timezone=tz)


def opportunity_count(scale: float | str) -> int:
    """A scale name or number (MIN_OPPORTUNITIES to MAX_OPPORTUNITIES) -> the number of opportunities
    to generate."""
    given = scale  # messages quote what was typed ("1e15"), not the float it reads as
    if isinstance(scale, str):
        key = scale.strip().lower()
        if key in SCALES:
            return SCALES[key]
        try:
            scale = float(key)
        except ValueError:
            raise DemoError(f"scale {given!r}: use small, medium, large or a number of opportunities") from None
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise DemoError(f"scale {given!r}: use small, medium, large or a number of opportunities")
    if scale > MAX_OPPORTUNITIES:
        raise DemoError(f"scale {given!r}: at most {MAX_OPPORTUNITIES:,} opportunities (large is "
                        f"{SCALES['large']:,}); the whole company is built in memory before it is written")
    n = int(round(scale))
    if n < MIN_OPPORTUNITIES:
        raise DemoError(f"scale {given!r}: at least {MIN_OPPORTUNITIES} opportunities are needed for the "
                        f"weekly and quarterly patterns to mean anything")
    return n


def _filled_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [t for t in TABLES if conn.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first() is not None]


# ---------------------------------------------------------------- calendar


class _Calendar:
    """The days of the history in the business zone, with their epoch starts and business weight."""

    def __init__(self, tz: ZoneInfo, anchor: date):
        self.tz = tz
        self.anchor = anchor
        first = date(anchor.year, anchor.month, 1)
        y, m = divmod(first.year * 12 + first.month - 1 - HISTORY_MONTHS, 12)
        self.start = date(y, m + 1, 1)
        self.n = (anchor - self.start).days
        days = [self.start + timedelta(days=i) for i in range(self.n + PAD_DAYS + 1)]
        self.day_start = np.array([self.epoch(d) for d in days], dtype=np.int64)
        self.year = np.array([d.year for d in days], dtype=np.int32)
        self.month = np.array([d.month for d in days], dtype=np.int8)
        self.dom = np.array([d.day for d in days], dtype=np.int8)
        self.weekday = np.array([d.weekday() for d in days], dtype=np.int8)
        holiday = np.array([(d.month, d.day) in HOLIDAYS for d in days])
        self.songkran = (self.month == 4) & (self.dom >= 12) & (self.dom <= 16)
        self.work = (self.weekday < 5) & ~holiday & ~self.songkran
        nxt = np.empty(len(days), dtype=np.int64)
        following = len(days) - 1
        for i in range(len(days) - 1, -1, -1):
            if self.work[i]:
                following = i
            nxt[i] = following
        self.next_work = nxt
        self.anchor_ts = int(self.day_start[self.n])
        self.start_ts = int(self.day_start[0])
        idx = np.arange(self.n)
        self.weight = (np.exp(GROWTH * idx) * SEASON[self.month[: self.n] - 1] * WEEKDAY[self.weekday[: self.n]]
                       * np.where(holiday[: self.n], 0.1, 1.0) * np.where(self.songkran[: self.n], 0.15, 1.0))
        # months from the history's first through a few after the anchor (targets look ahead)
        self.months: list[date] = []
        d = self.start
        while d <= date(anchor.year + 1, anchor.month, 1):
            self.months.append(d)
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        self.month_start = np.array([self.epoch(d) for d in self.months], dtype=np.int64)
        self.month_of_day = ((self.year - self.start.year) * 12 + self.month - self.start.month).astype(np.int64)

    def epoch(self, d: date) -> int:
        return periods.to_epoch(datetime(d.year, d.month, d.day, tzinfo=self.tz))

    def day_of(self, ts: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.day_start, ts, side="right") - 1

    def month_weight(self, m: int) -> float:
        """Expected business of month index m (also past the anchor): growth x season."""
        d = self.months[m]
        return float(np.exp(GROWTH * ((d - self.start).days + 15)) * SEASON[d.month - 1])

    def snap(self, rng: np.random.Generator, d: np.ndarray) -> np.ndarray:
        """A working day near each day index: what falls on a weekend or holiday moves up to 3 days
        either way, so no weekday collects the weekend's share."""
        d = d.copy()
        for _ in range(6):
            off = ~self.work[d]
            if not off.any():
                break
            d[off] = np.clip(d[off] + rng.integers(-3, 4, off.sum()), 0, len(self.work) - 1)
        return self.next_work[d]

    def sample_days(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(self.n, size=n, p=self.weight / self.weight.sum())


def _office_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight, 08:30-18:30, bunched mid-day."""
    return (30_600 + rng.beta(2.2, 2.2, n) * 36_000).astype(np.int64)


def _any_hour_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Web and social leads arrive 07:00-23:00."""
    return (25_200 + rng.beta(1.6, 1.4, n) * 57_600).astype(np.int64)


@dataclass
class _Nullable:
    """An int64 column where a negative value stands for NULL."""

    values: np.ndarray


def _categorical(rng: np.random.Generator, group: np.ndarray, table: np.ndarray) -> np.ndarray:
    """A category per row drawn with its group's row of `table`; memory O(rows), not rows x categories."""
    out = np.empty(len(group), dtype=np.int64)
    for g in range(len(table)):
        rows = np.flatnonzero(group == g)
        out[rows] = rng.choice(table.shape[1], size=len(rows), p=table[g])
    return out


def _ids(prefix: str, idx: np.ndarray, width: int) -> list[str | None]:
    return [f"{prefix}{i:0{width}d}" if i >= 0 else None for i in idx.tolist()]


def _lookup(names: tuple[str, ...] | list[str | None], codes: np.ndarray) -> list[str | None]:
    table = np.array(list(names) + [None], dtype=object)
    return table[np.where(codes < 0, len(names), codes)].tolist()


def _width(n: int) -> int:
    return max(6, len(str(max(n, 1))))


# ---------------------------------------------------------------- the company


class _Company:
    def __init__(self, rng: np.random.Generator, cal: _Calendar, n_opps: int):
        self.rng = rng
        self.cal = cal
        self.n_opps = n_opps
        self.notes: list[str] = []

    # ------------------------------------------------------------ build (all in memory, numeric)

    def build(self) -> None:
        self._reps()
        self._leads()
        self._opportunities()
        self._orders()
        self._plant_retention_drop()
        self._spend()
        self._plant_cac_spike()
        self._churned_at()

    def _reps(self) -> None:
        rng, cal = self.rng, self.cal
        n = int(min(24 + self.n_opps / 400, 2_800))
        sizes = np.maximum(np.round(TEAM_SHARE * n).astype(np.int64), 3)
        sizes[np.argmax(sizes)] += n - sizes.sum()
        team = np.repeat(np.arange(len(TEAMS)), sizes)  # enterprise first: rep 0 is Somchai
        region = np.array([rng.choice(len(REGIONS), p=TEAM_REGION_P[t]) for t in team], dtype=np.int64)
        others = np.array([f for f in FIRST_NAMES if f != "Somchai"])
        combos = rng.choice(len(others) * len(SURNAMES), size=n - 1 + len(TEAMS), replace=False)
        first = others[combos // len(SURNAMES)]
        last = np.array(SURNAMES)[combos % len(SURNAMES)]
        names = [f"{a} {b}" for a, b in zip(first.tolist(), last.tolist(), strict=True)]
        region[0] = 0  # Somchai works Bangkok enterprise accounts, from before the history to now
        self.rep_name = ["Somchai Jaidee"] + names[: n - 1]
        self.mgr_name = names[n - 1:]
        start_ts = cal.start_ts
        hired = np.empty(n, dtype=np.int64)
        before = rng.random(n) < 0.65
        hired[before] = start_ts - (rng.uniform(60, 6 * 365, before.sum()) * DAY).astype(np.int64)
        hired[~before] = start_ts + (rng.uniform(0, cal.n - 14, (~before).sum()) * DAY).astype(np.int64)
        core = np.zeros(n, dtype=bool)
        for t in range(len(TEAMS)):
            core[np.flatnonzero(team == t)[:2]] = True
        hired[core] = start_ts - (rng.uniform(365, 5 * 365, core.sum()) * DAY).astype(np.int64)
        hired = cal.day_start[0] + (hired - cal.day_start[0]) // DAY * DAY  # a bare date: 00:00
        left = np.full(n, NEVER)
        leaves = (rng.random(n) < 0.20) & ~core
        lo = np.maximum(hired + 120 * DAY, start_ts)
        span = cal.anchor_ts - DAY - lo
        leaves &= span > 0
        left[leaves] = lo[leaves] + (rng.random(leaves.sum()) * span[leaves]) // DAY * DAY
        self.rep_team, self.rep_region, self.rep_hired, self.rep_left = team, region, hired, left
        self.rep_prod = np.exp(rng.normal(0, 0.3, n))
        self.rep_prod[0] = 1.35
        self.rep_slack = np.where(rng.random(n) < 0.55, 1, 0)
        members = [np.flatnonzero(team == t) for t in range(len(TEAMS))]
        self.team_off = np.cumsum([0] + [len(m) for m in members])[:-1]
        self.team_cnt = np.array([len(m) for m in members])
        self.team_members = np.concatenate(members)
        self.team_core = np.array([m[core[m]][0] for m in members])

    def _pick_reps(self, team: np.ndarray, t_lo: np.ndarray, t_hi: np.ndarray) -> np.ndarray:
        """A rep of `team` employed over [t_lo, t_hi] for every row, busier reps more often."""
        rng = self.rng
        out = np.empty(len(team), dtype=np.int64)
        todo = np.arange(len(team))
        top = self.rep_prod.max()
        for _ in range(40):
            if not len(todo):
                break
            tm = team[todo]
            cand = self.team_members[self.team_off[tm] + (rng.random(len(todo)) * self.team_cnt[tm]).astype(np.int64)]
            ok = ((self.rep_hired[cand] <= t_lo[todo]) & (self.rep_left[cand] > t_hi[todo])
                  & (rng.random(len(todo)) * top < self.rep_prod[cand]))
            out[todo[ok]] = cand[ok]
            todo = todo[~ok]
        out[todo] = self.team_core[team[todo]]  # core reps are there from before the history to the anchor
        return out

    def _leads(self) -> None:
        rng, cal = self.rng, self.cal
        n = 3 * self.n_opps
        ch = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
        day = cal.sample_days(rng, n)
        web = (ch == 1) | (ch == 5)
        secs = np.where(web, _any_hour_seconds(rng, n), _office_seconds(rng, n))
        created = cal.day_start[day] + secs
        order = np.argsort(created, kind="stable")
        ch, day, created = ch[order], day[order], created[order]
        qualified = created + (rng.gamma(2.0, QUALIFY_DAYS[ch] / 2.0) * DAY).astype(np.int64) + 600
        qualified[(rng.random(n) >= QUALIFY_P[ch]) | (qualified >= cal.anchor_ts)] = -1
        # campaign names: one per channel and month (social, campaign) or per event month
        month = cal.month_of_day[day]
        self.lead_ch, self.lead_created, self.lead_qualified = ch.astype(np.int8), created, qualified
        self.lead_campaign = np.where(np.isin(ch, (1, 2, 3)), ch * len(cal.months) + month, -1).astype(np.int32)
        self.lead_owner = np.full(n, -1, dtype=np.int32)

    def _campaign_names(self) -> list[str | None]:
        names: list[str | None] = []
        for c in range(len(CHANNELS)):
            for i, m in enumerate(self.cal.months):
                if c == 1:
                    names.append(f"LINE OA & Facebook {m:%Y-%m}")
                elif c == 2:
                    names.append(f"{m.year}-Q{(m.month - 1) // 3 + 1} {PRODUCTS[(i // 3) % len(PRODUCTS)]} promotion")
                elif c == 3:
                    names.append(f"{EVENTS[i % len(EVENTS)]} {m.year}")
                else:
                    names.append(None)
        return names

    def _close(self, created: np.ndarray, team: np.ndarray, seg: np.ndarray, p_win: np.ndarray,
               speed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (status, closed_at or the planned close for open deals)."""
        rng, cal = self.rng, self.cal
        n = len(created)
        won = rng.random(n) < p_win
        days = CYCLE_DAYS_TEAM[team] * speed * np.exp(rng.normal(0, 0.55, n)) * np.where(won, 1.0, 0.75)
        t = created + (np.maximum(days, 1.0) * DAY).astype(np.int64)
        inside = t < cal.day_start[cal.n + PAD_DAYS]
        d = np.where(inside, cal.day_of(np.minimum(t, cal.day_start[-1])), 0)
        month, dom, year = cal.month[d], cal.dom[d], cal.year[d]
        target = np.full(n, -1, dtype=np.int64)
        # year-end budgets: part of the won deals due late November or in January close in December
        dec = inside & won & (((month == 11) & (dom >= 20)) | ((month == 1) & (dom <= 20))) & (rng.random(n) < 0.35)
        dec_year = np.where(month == 1, year - 1, year)
        target[dec] = self._day_index(dec_year[dec], 12, 1) + rng.integers(0, 27, dec.sum())
        # the public sector spends its budget before the fiscal year ends on 30 September
        pub = (inside & won & (team == 3) & (((month == 7) & (dom >= 15)) | (month == 8) | (month == 10)
                                             | (month == 11)) & (rng.random(n) < 0.35))
        target[pub] = self._day_index(year[pub], 9, 1) + rng.integers(0, 25, pub.sum())
        # April: around Songkran decision makers are away, and what was due slips into May
        songkran = inside & (month == 4) & (dom <= 25) & (rng.random(n) < 0.35)
        target[songkran] = self._day_index(year[songkran], 5, 2) + rng.integers(0, 14, songkran.sum())
        moved = (target >= 0) & (target < len(cal.day_start))
        moved &= cal.day_start[np.clip(target, 0, len(cal.day_start) - 1)] > created + DAY
        d = np.where(moved, target, d)
        snapped = cal.day_start[cal.snap(rng, d)] + _office_seconds(rng, n)
        t = np.where(inside | moved, np.maximum(snapped, created + 3_600), t)
        status = np.where(t >= cal.anchor_ts, OPEN, np.where(won, WON, LOST))
        return status, t

    def _day_index(self, years: np.ndarray, month: int, day: int) -> np.ndarray:
        """Day index of (year, month, day) for every year given; far negative before the history."""
        uniq, inv = np.unique(years, return_inverse=True)
        out = np.array([(date(int(y), month, day) - self.cal.start).days for y in uniq], dtype=np.int64)[inv]
        return np.where(out < 0, -(10**6), out)

    def _opportunities(self) -> None:
        rng, cal, n = self.rng, self.cal, self.n_opps
        # from leads: qualified leads become deals a few days later
        qualified = np.flatnonzero(self.lead_qualified >= 0)
        from_lead = self.lead_qualified[qualified] + ((rng.gamma(1.5, 2.0, len(qualified)) + 0.1) * DAY).astype(np.int64)
        eligible = np.flatnonzero(from_lead < cal.anchor_ts)
        n_fl = min(int(round(0.7 * n)), len(eligible))
        picked = np.sort(rng.choice(eligible, size=n_fl, replace=False))
        chosen = qualified[picked]
        n_direct = n - n_fl
        direct_created = cal.day_start[cal.sample_days(rng, n_direct)] + _office_seconds(rng, n_direct)
        created = np.concatenate([from_lead[picked], direct_created])
        lead = np.concatenate([chosen, np.full(n_direct, -1)])
        order = np.argsort(created, kind="stable")
        created, lead = created[order], lead[order]
        is_lead = lead >= 0

        # accounts: most lead deals are a new logo, the rest a second try at a known prospect
        li = np.flatnonzero(is_lead)
        new_logo = rng.random(len(li)) < 0.85
        new_logo[0] = True
        before = np.cumsum(new_logo) - new_logo
        n_new = int(new_logo.sum())
        # customers from before the history: repeat buyers, seen only through what they buy from the start
        # on; without them nobody could have been inactive for a year until well into the second year, and
        # retention would climb towards 100 % and settle quarter after quarter
        n_old = int(round(0.2 * n_new))
        n_acc = n_old + n_new
        acc = n_old + np.where(new_logo, np.cumsum(new_logo) - 1,
                               (rng.random(len(li)) * np.maximum(before, 1)).astype(np.int64))
        account = np.full(n, -1, dtype=np.int64)
        account[li] = acc
        # accounts are numbered in the order they first appear
        arrival = np.concatenate([np.full(n_old, cal.start_ts - DAY), created[li][new_logo]])
        self.acc_seg = rng.choice(len(SEGMENTS), size=n_acc, p=SEGMENT_P)
        self.acc_region = rng.choice(len(REGIONS), size=n_acc, p=ACCOUNT_REGION_P)
        public = (rng.random(n_acc) < PUBLIC_SHARE) & (self.acc_seg < 2)
        seg_team = np.array([0, 1, 2])[self.acc_seg]
        self.acc_team = np.where(public, 3, np.where(rng.random(n_acc) < PARTNER_SHARE, 4, seg_team))
        self.acc_public = public
        self.acc_name_a = rng.integers(0, 10**9, n_acc)
        self.acc_life = (rng.exponential(3.5 * 365, n_acc) * DAY).astype(np.int64)
        self.acc_since = np.full(n_acc, NEVER)  # first purchase, for those that made it before the history
        self.acc_since[:n_old] = cal.start_ts - (rng.uniform(0.2, 5.0, n_old) * 365 * DAY).astype(np.int64)
        self.acc_life[:n_old] += cal.start_ts - self.acc_since[:n_old]  # all still buying at the start

        status = np.zeros(n, dtype=np.int64)
        closed = np.zeros(n, dtype=np.int64)
        seg_factor = np.array([0.85, 1.0, 1.05])
        lch = self.lead_ch[lead[li]]
        s, c = self._close(created[li], self.acc_team[acc], self.acc_seg[acc],
                           np.clip(WIN_P_CHANNEL[lch] * seg_factor[self.acc_seg[acc]], 0.05, 0.9), np.ones(len(li)))
        status[li], closed[li] = s, c

        # direct deals: mostly upsell to customers still buying, else a cold approach to a known account
        fp = self.acc_since.copy()
        w = li[s == WON]
        np.minimum.at(fp, account[w], closed[w])
        cust = np.flatnonzero(fp < NEVER)
        cust = cust[np.argsort(fp[cust], kind="stable")]
        cust_fp = fp[cust]
        di = np.flatnonzero(~is_lead)
        t = created[di]
        upsell_wanted = rng.random(len(di)) < 0.75
        k = np.searchsorted(cust_fp, t)
        pick = np.full(len(di), -1, dtype=np.int64)
        todo = np.flatnonzero(upsell_wanted & (k > 0))
        for _ in range(8):
            if not len(todo):
                break
            cand = cust[(rng.random(len(todo)) * k[todo]).astype(np.int64)]
            ok = fp[cand] + self.acc_life[cand] > t[todo]
            pick[todo[ok]] = cand[ok]
            todo = todo[~ok]
        upsell = pick >= 0
        k2 = np.searchsorted(arrival, t)
        cold = (rng.random(len(di)) * np.maximum(k2, 1)).astype(np.int64)
        account[di] = np.where(upsell, pick, cold)
        a = account[di]
        p = np.where(upsell, 0.58, 0.30) * seg_factor[self.acc_seg[a]]
        s, c = self._close(t, self.acc_team[a], self.acc_seg[a], p, np.where(upsell, 0.6, 1.0))
        status[di], closed[di] = s, c

        team = self.acc_team[account]
        seg = self.acc_seg[account]
        t_lo = np.where(is_lead, self.lead_created[np.maximum(lead, 0)], created)
        t_hi = np.where(status == OPEN, cal.anchor_ts - 1, closed)
        owner = self._pick_reps(team, t_lo, t_hi)
        self.lead_owner[lead[li]] = owner[li]
        product = _categorical(rng, seg, PRODUCT_P)
        amount = DEAL_MEDIAN_THB[seg] * PRODUCT_FACTOR[product] * np.exp(rng.normal(0, 0.55, n))
        is_upsell = np.zeros(n, dtype=bool)
        is_upsell[di[upsell]] = True
        amount *= np.where(is_upsell, 0.45, 1.0)  # an add-on is smaller than the first project
        self.opp_amount = np.maximum(np.round(amount, -2), 5_000.0)
        self.opp_created, self.opp_lead, self.opp_account = created, lead, account
        self.opp_status, self.opp_closed, self.opp_owner, self.opp_product = status, closed, owner, product
        self.n_acc = n_acc

        # leads nobody turned into a deal: owned by whoever had them on the day (some never assigned)
        rest = np.flatnonzero(self.lead_owner < 0)
        r_ch = self.lead_ch[rest]
        r_team = _categorical(rng, r_ch, CHANNEL_TEAM_P)
        tc = self.lead_created[rest]
        owners = self._pick_reps(r_team, tc, tc)
        unowned = np.isin(r_ch, (1, 5)) & (rng.random(len(rest)) < 0.08)
        self.lead_owner[rest] = np.where(unowned, -1, owners)

    def _orders(self) -> None:
        """Repeat purchases of customers after their first purchase, until they stop buying."""
        rng, cal = self.rng, self.cal
        fp = np.minimum(self._first_purchase(with_orders=False), self.acc_since)
        cust = np.flatnonzero(fp < NEVER)
        one_off = (rng.random(len(cust)) < 0.30) & (self.acc_since[cust] == NEVER)
        rate = np.where(one_off, 0.0, ORDERS_PER_YEAR[self.acc_seg[cust]] / 365.0 / DAY)
        lo = np.maximum(fp[cust] + 21 * DAY, cal.start_ts)
        hi = np.minimum(fp[cust] + self.acc_life[cust], cal.anchor_ts)
        span = np.maximum(hi - lo, 0)
        expected = rate * span
        target = 0.8 * self.n_opps
        factor = target / expected.sum() if expected.sum() > 0 else 0.0
        counts = rng.poisson(expected * min(factor, 3.0))
        who = np.repeat(cust, counts)
        t = np.repeat(lo, counts) + (rng.random(len(who)) * np.repeat(span, counts)).astype(np.int64)
        d = cal.snap(rng, cal.day_of(t))
        t = np.maximum(cal.day_start[d] + _office_seconds(rng, len(t)), np.repeat(lo, counts))
        keep = t < cal.anchor_ts
        who, t = who[keep], t[keep]
        order = np.argsort(t, kind="stable")
        self.ord_account, self.ord_at = who[order], t[order]
        seg = self.acc_seg[self.ord_account]
        self.ord_amount = np.maximum(np.round(ORDER_MEDIAN_THB[seg] * np.exp(rng.normal(0, 0.6, len(t))), -1), 500.0)

    def _purchases(self) -> tuple[np.ndarray, np.ndarray]:
        won = self.opp_status == WON
        return (np.concatenate([self.opp_account[won], self.ord_account]),
                np.concatenate([self.opp_closed[won], self.ord_at]))

    def _first_purchase(self, with_orders: bool = True) -> np.ndarray:
        fp = np.full(self.n_acc, NEVER)
        if with_orders:
            acc, t = self._purchases()
        else:
            won = self.opp_status == WON
            acc, t = self.opp_account[won], self.opp_closed[won]
        np.minimum.at(fp, acc, t)
        return fp

    def _active(self, at: int) -> np.ndarray:
        acc, t = self._purchases()
        out = np.zeros(self.n_acc, dtype=bool)
        out[acc[(t >= at - WINDOW) & (t < at)]] = True
        return out

    def _retention(self, start: int, end: int) -> float:
        a, b = self._active(start), self._active(end)
        return float((a & b).sum() / max(a.sum(), 1))

    def _quarter(self, offset: int) -> tuple[str, int, int]:
        base = periods.floor(datetime(self.cal.anchor.year, self.cal.anchor.month, self.cal.anchor.day), "quarter")
        s = periods.shift(base, "quarter", offset)
        e = periods.shift(s, "quarter", 1)
        tz = self.cal.tz
        return (periods.period_key(s, "quarter"), periods.to_epoch(s.replace(tzinfo=tz)),
                periods.to_epoch(e.replace(tzinfo=tz)))

    def _plant_retention_drop(self) -> None:
        rng = self.rng
        key, qs, qe = self._quarter(-1)
        _, ps, _ = self._quarter(-2)
        r_prev = self._retention(ps, qs)
        a_s, a_e = self._active(qs), self._active(qe)
        r_base = float((a_s & a_e).sum() / max(a_s.sum(), 1))
        goal = min(r_prev, r_base) - 0.10
        k = int(math.ceil((r_base - goal) * a_s.sum()))
        acc, t = self._purchases()
        in_w = (t >= qs - WINDOW) & (t < qe - WINDOW)
        last_w = np.full(self.n_acc, -1, dtype=np.int64)
        np.maximum.at(last_w, acc[in_w], t[in_w])
        cand = np.flatnonzero(a_s & a_e & (last_w >= 0))
        if len(cand) < k:
            self.notes.append(f"retention drop: only {len(cand)} of {k} customers could be made to leave")
        picked = np.sort(rng.choice(cand, size=min(k, len(cand)), replace=False))
        cut = np.full(self.n_acc, NEVER)
        cut[picked] = last_w[picked]
        keep = self.ord_at <= cut[self.ord_account]
        self.ord_account, self.ord_at, self.ord_amount = self.ord_account[keep], self.ord_at[keep], self.ord_amount[keep]
        lost = (self.opp_status == WON) & (self.opp_closed > cut[self.opp_account])
        self.opp_status[lost] = LOST
        self.retention_key, self.retention_prev = key, r_prev
        self.retention_dropped = self._retention(qs, qe)

    def _spend(self) -> None:
        """Marketing and sales spend that follows the expected lead flow: daily ads, monthly budgets."""
        rng, cal = self.rng, self.cal
        n_leads = len(self.lead_ch)
        share = cal.weight / cal.weight.sum()
        self.daily_channels = tuple(CPL_DAILY)
        p = {c: CHANNEL_P[CHANNELS.index(c)] for c in CHANNELS}
        self.daily_amount = np.stack(
            [np.round(CPL_DAILY[c] * n_leads * p[c] * share * np.exp(rng.normal(0, 0.2, cal.n)))
             for c in self.daily_channels], axis=1)
        months = [m for m in range(len(cal.months)) if cal.month_start[m] < cal.anchor_ts]
        month_leads = np.bincount(cal.month_of_day[: cal.n], weights=share * n_leads, minlength=len(cal.months))
        self.monthly_rows: list[tuple[int, str, str, float]] = []
        for m in months:
            for c, (category, cpl) in CPL_MONTHLY.items():
                amt = cpl * month_leads[m] * p[c] * float(np.exp(rng.normal(0, 0.12)))
                self.monthly_rows.append((m, c, category, round(amt, -2)))
            amt = PARTNER_SPEND_PER_LEAD * month_leads[m] * float(np.exp(rng.normal(0, 0.1)))
            self.monthly_rows.append((m, "partners", "sales", round(amt, -2)))

    def _daily_spend_total(self) -> np.ndarray:
        """Spend per history day, monthly rows spread evenly over their month (kpis.md)."""
        cal = self.cal
        total = self.daily_amount.sum(axis=1).astype(float)
        for m, _c, _cat, amt in self.monthly_rows:
            lo = (cal.months[m] - cal.start).days
            nxt = cal.months[m + 1] if m + 1 < len(cal.months) else None
            hi = (nxt - cal.start).days if nxt else lo + 30
            total[lo: min(hi, cal.n)] += amt / (hi - lo)
        return total

    def _plant_cac_spike(self) -> None:
        rng, cal = self.rng, self.cal
        monday = cal.anchor - timedelta(days=cal.anchor.weekday())
        spike = monday - timedelta(days=7)
        sd = (spike - cal.start).days
        weeks = [(sd - 7 * i, sd - 7 * i + 7) for i in range(8, -1, -1)]  # 8 trailing weeks, then the spike

        def new_per_day() -> np.ndarray:
            fp = self._first_purchase()
            return np.bincount(cal.day_of(fp[fp < cal.anchor_ts]), minlength=cal.n)[: cal.n]

        new_day = new_per_day()
        usual = float(np.median([new_day[lo:hi].sum() for lo, hi in weeks[:-1]]))
        # 40 % of a normal week's new customers stay: the complete week keeps at least one
        fp = self._first_purchase()
        fp_day = np.where(fp < cal.anchor_ts, cal.day_of(np.minimum(fp, cal.anchor_ts)), -1)
        gone = np.zeros(self.n_acc, dtype=bool)
        for lo, hi in ((sd, sd + 7), (sd + 7, cal.n)):
            cand = np.flatnonzero((fp_day >= lo) & (fp_day < hi))
            keep = int(round(usual * (hi - lo) / 7 * 0.4))
            keep = min(len(cand), max(keep, 1 if lo == sd else 0))
            gone[rng.permutation(cand)[keep:]] = True
        sd_ts = int(cal.day_start[sd])
        flip = (self.opp_status == WON) & (self.opp_closed >= sd_ts) & gone[self.opp_account]
        self.opp_status[flip] = LOST
        # orders follow a first purchase by 3 weeks, except for customers from before the history,
        # whose first order in the data can be anywhere: theirs go too
        keep = ~(gone[self.ord_account] & (self.ord_at >= sd_ts))
        self.ord_account, self.ord_at, self.ord_amount = self.ord_account[keep], self.ord_at[keep], self.ord_amount[keep]
        new_day = new_per_day()
        if not new_day[sd: sd + 7].any():
            # a week without any new customer has no CAC at all: one deal of a never-customer is won that
            # week, one lost that week if there is one, else one still open (stage rows follow closed_at)
            never = self._first_purchase() == NEVER
            week_end = int(cal.day_start[sd + 7])
            wednesday = int(cal.day_start[sd + 2]) + 14 * 3600
            lost = np.flatnonzero((self.opp_status == LOST) & (self.opp_closed >= sd_ts)
                                  & (self.opp_closed < week_end) & never[self.opp_account])
            still_open = np.flatnonzero((self.opp_status == OPEN) & (self.opp_created < wednesday - 3600)
                                        & never[self.opp_account])
            pool = lost if len(lost) else still_open
            if len(pool):
                i = pool[rng.integers(len(pool))]
                if self.opp_status[i] == OPEN:
                    self.opp_closed[i] = wednesday
                self.opp_status[i] = WON
                new_day = new_per_day()
            else:
                self.notes.append("CAC spike: no deal could make the spike week's single new customer")

        def cac(spend: np.ndarray, lo: int, hi: int) -> float:
            customers = new_day[lo:hi].sum()
            return float(spend[lo:hi].sum() / customers) if customers else float("nan")

        base = self._daily_spend_total()
        median = float(np.nanmedian([cac(base, lo, hi) for lo, hi in weeks[:-1]]))
        daily_only = self.daily_amount.sum(axis=1)
        factor = 2.5
        while factor < 50:
            spend = base.copy()
            spend[sd:] += (factor - 1.0) * daily_only[sd:]
            if not cac(spend, *weeks[-1]) < 2.0 * median:  # also stops when either is nan
                break
            factor *= 1.25
        self.daily_amount[sd:] = np.round(self.daily_amount[sd:] * factor)
        self.cac_week = periods.period_key(datetime(spike.year, spike.month, spike.day), "week")
        self.cac_window = (spike, cal.anchor)
        self.cac_value = cac(self._daily_spend_total(), *weeks[-1])
        self.cac_median, self.cac_factor = median, factor

    def _churned_at(self) -> None:
        acc, t = self._purchases()
        last = np.full(self.n_acc, -1, dtype=np.int64)
        np.maximum.at(last, acc, t)
        gone = (last >= 0) & (last + WINDOW < self.cal.anchor_ts)
        self.acc_churned = np.where(gone, last + WINDOW, -1)

    # ------------------------------------------------------------ write (streamed, chunked)

    def write(self, w: _Writer) -> None:
        self._write_reps(w)
        self._write_accounts(w)
        self._write_leads(w)
        self._write_opportunities(w)
        self._write_activities(w)
        self._write_orders(w)
        self._write_spend(w)
        self._write_forecasts_and_targets(w)
        self._write_surveys(w)
        self._write_trainings(w)
        self._write_content_events(w)

    def rep_ids(self, idx: np.ndarray) -> list[str | None]:
        """rep-0001 … for rep indexes, managers (index n_reps + team) as mgr-<team>, -1 as NULL."""
        n = len(self.rep_team)
        return [None if i < 0 else f"rep-{i + 1:04d}" if i < n else f"mgr-{TEAMS[i - n]}" for i in idx.tolist()]

    def _write_reps(self, w: _Writer) -> None:
        cal = self.cal
        n = len(self.rep_team)
        ids = self.rep_ids(np.arange(n + len(TEAMS)))
        names = self.rep_name + self.mgr_name
        slack = [f"U0R{i:06d}" if s else None for i, s in enumerate(self.rep_slack.tolist())]
        slack[0] = "U0SOMCHAI"
        slack += ["U0MANAGER"] + [f"U0M{t.upper()[:7]}" for t in TEAMS[1:]]
        team = [TEAMS[t] for t in self.rep_team.tolist()] + list(TEAMS)
        region = [REGIONS[r] for r in self.rep_region.tolist()] + ["bangkok"] * len(TEAMS)
        mgr_hired = cal.day_start[0] - (self.rng.integers(2 * 365, 8 * 365, len(TEAMS)) * DAY)
        hired = np.concatenate([self.rep_hired, mgr_hired])
        left = np.concatenate([np.where(self.rep_left == NEVER, -1, self.rep_left), np.full(len(TEAMS), -1)])
        email = [f"{nm.replace(' ', '.').lower()}@{DOMAIN}" for nm in names]
        role = ["rep"] * n + ["manager"] * len(TEAMS)  # reps.role drives what a person may see in Slack
        w.rows("reps", {"rep_id": ids, "name": names, "team": team, "region": region, "email": email,
                        "slack_user_id": slack, "role": role, "hired_on": hired, "left_on": _Nullable(left)})

    def _account_names(self, idx: np.ndarray) -> list[str]:
        a = self.acc_name_a[idx]
        public = self.acc_public[idx]
        seg = self.acc_seg[idx]
        out = []
        for code, pub, s in zip(a.tolist(), public.tolist(), seg.tolist(), strict=True):
            if pub:
                out.append(f"{PROVINCES[code % len(PROVINCES)]} {AGENCIES[(code // 97) % len(AGENCIES)]}")
            else:
                suffix = COMPANY_SUFFIX[(code // 7) % 3] if s == 0 else COMPANY_SUFFIX[0]
                out.append(f"{COMPANY_PREFIX[code % len(COMPANY_PREFIX)]} "
                           f"{COMPANY_TRADE[(code // 31) % len(COMPANY_TRADE)]} {suffix}")
        return out

    def _write_accounts(self, w: _Writer) -> None:
        wd = _width(self.n_acc)
        for lo in range(0, self.n_acc, CHUNK):
            idx = np.arange(lo, min(lo + CHUNK, self.n_acc))
            w.rows("accounts", {"account_id": _ids("ACC-", idx, wd), "name": self._account_names(idx),
                                "segment": _lookup(SEGMENTS, self.acc_seg[idx]),
                                "region": _lookup(REGIONS, self.acc_region[idx]),
                                "churned_at": _Nullable(self.acc_churned[idx])}, total=self.n_acc)

    def _write_leads(self, w: _Writer) -> None:
        n = len(self.lead_ch)
        wd = _width(n)
        campaigns = self._campaign_names()
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(lo + CHUNK, n))
            w.rows("leads", {"lead_id": _ids("L-", np.arange(s.start, s.stop), wd),
                             "created_at": self.lead_created[s], "channel": _lookup(CHANNELS, self.lead_ch[s]),
                             "campaign": _lookup(campaigns, self.lead_campaign[s]),
                             "owner_rep_id": self.rep_ids(self.lead_owner[s]),
                             "qualified_at": _Nullable(self.lead_qualified[s])}, total=n)

    def _write_opportunities(self, w: _Writer) -> None:
        """Stage changes first (chunk by chunk), which also gives every deal its current stage."""
        rng, cal, n = self.rng, self.cal, self.n_opps
        won_like = self.opp_status != LOST
        path = np.where(won_like, rng.choice(3, size=n, p=WON_PATH_P), 3 + rng.choice(5, size=n, p=LOST_PATH_P))
        flat = np.concatenate([np.array(p) for p in PATHS])
        p_len = np.array([len(p) for p in PATHS])
        p_off = np.concatenate([[0], np.cumsum(p_len)[:-1]])
        stage = np.empty(n, dtype=np.int64)
        wd = _width(n)
        expected = int(p_len[path].sum())
        step = max(CHUNK // 5, 1)
        for lo in range(0, n, step):
            idx = np.arange(lo, min(lo + step, n))
            ln = p_len[path[idx]]
            row_opp = np.repeat(idx, ln)
            first = np.repeat(np.cumsum(ln) - ln, ln)
            pos = np.arange(len(row_opp)) - first
            st = flat[p_off[path[row_opp]] + pos]
            gap = rng.gamma(2.0, 1.0, len(row_opp))
            gap[pos == 0] = 0.0
            cum = np.cumsum(gap)
            cum -= np.repeat(cum[np.cumsum(ln) - ln], ln)  # per-deal running sum (first gap is 0)
            last = np.repeat(cum[np.cumsum(ln) - 1], ln)
            frac = np.divide(cum, last, out=np.zeros_like(cum), where=last > 0)
            created = self.opp_created[row_opp]
            dur = self.opp_closed[row_opp] - created - (np.repeat(ln, ln) - 1)
            entered = created + np.floor(frac * np.maximum(dur, 0)).astype(np.int64) + pos
            keep = entered < cal.anchor_ts
            row_opp, st, entered = row_opp[keep], st[keep], entered[keep]
            same_next = np.r_[row_opp[1:] == row_opp[:-1], False]
            exited = np.where(same_next, np.r_[entered[1:], 0], -1)
            stage[row_opp[~same_next]] = st[~same_next]
            w.rows("stage_changes", {"opportunity_id": _ids("OPP-", row_opp, wd), "stage": _lookup(STAGES, st),
                                     "entered_at": entered, "exited_at": _Nullable(exited)}, total=expected)
        lw = _width(len(self.lead_ch))
        aw = _width(self.n_acc)
        closed = np.where(self.opp_status == OPEN, -1, self.opp_closed)
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(lo + CHUNK, n))
            k = s.stop - s.start
            w.rows("opportunities", {
                "opportunity_id": _ids("OPP-", np.arange(s.start, s.stop), wd),
                "created_at": self.opp_created[s], "status": _lookup(STATUSES, self.opp_status[s]),
                "amount": self.opp_amount[s], "account_id": _ids("ACC-", self.opp_account[s], aw),
                "owner_rep_id": self.rep_ids(self.opp_owner[s]), "stage": _lookup(STAGES, stage[s]),
                "closed_at": _Nullable(closed[s]), "lead_id": _ids("L-", self.opp_lead[s], lw),
                "product": _lookup(PRODUCTS, self.opp_product[s]), "currency": [CURRENCY] * k}, total=n)

    def _day_chunks(self, per_day: np.ndarray) -> list[tuple[int, int]]:
        """Consecutive day ranges holding about CHUNK rows each."""
        out, lo, acc = [], 0, 0
        for d, c in enumerate(per_day.tolist()):
            acc += c
            if acc >= CHUNK:
                out.append((lo, d + 1))
                lo, acc = d + 1, 0
        if lo < len(per_day):
            out.append((lo, len(per_day)))
        return out

    def _write_activities(self, w: _Writer) -> None:
        """Calls, emails and meetings per employed rep per working day; linked to the rep's live deals."""
        rng, cal = self.rng, self.cal
        n_rep = len(self.rep_team)
        hired = np.concatenate([self.rep_hired, np.full(len(TEAMS), cal.start_ts - 365 * DAY)])
        left = np.concatenate([self.rep_left, np.full(len(TEAMS), NEVER)])
        rate = np.concatenate([self.rep_prod, np.full(len(TEAMS), 0.3)])
        day_ts = cal.day_start[: cal.n]
        employed = (hired[None, :] <= day_ts[:, None]) & (left[None, :] > day_ts[:, None])
        day_w = WEEKDAY[cal.weekday[: cal.n]] * np.sqrt(SEASON[cal.month[: cal.n] - 1])
        day_w = day_w * np.where(cal.work[: cal.n] | (cal.weekday[: cal.n] >= 5), 1.0, 0.15)
        lam = employed * day_w[:, None] * rate[None, :]
        lam *= 10 * self.n_opps / lam.sum()
        counts = rng.poisson(lam)
        total = int(counts.sum())
        # deals by owner, then creation time, to find what a rep was working on at a moment
        o = np.lexsort((self.opp_created, self.opp_owner))
        key = (self.opp_owner[o] << 33) + self.opp_created[o]
        live_until = np.where(self.opp_status == OPEN, NEVER, self.opp_closed)[o]
        kinds = {"enterprise": 0, "manager": 1, "default": 2}
        kind = np.concatenate([np.where(self.rep_team == 0, 0, 2), np.full(len(TEAMS), 1)])
        type_p = np.array([ACTIVITY_P[k] for k in kinds])
        wd, ow, aw = _width(total), _width(self.n_opps), _width(self.n_acc)
        done = 0
        for lo, hi in self._day_chunks(counts.sum(axis=1)):
            block = counts[lo:hi]
            d_idx, r_idx = np.nonzero(block)
            c = block[d_idx, r_idx]
            day = np.repeat(d_idx + lo, c)
            rep = np.repeat(r_idx, c)
            t = cal.day_start[day] + _office_seconds(rng, len(day))
            order = np.argsort(t, kind="stable")
            day, rep, t = day[order], rep[order], t[order]
            typ = _categorical(rng, kind[rep], type_p)
            pos = np.searchsorted(key, (rep << 33) + t, side="right") - 1 - rng.geometric(0.35, len(t)) + 1
            pos = np.clip(pos, 0, len(key) - 1)
            linked = ((rep < n_rep) & (self.opp_owner[o[pos]] == rep) & (self.opp_created[o[pos]] <= t)
                      & (live_until[pos] >= t - 3 * DAY) & (rng.random(len(t)) < 0.6))
            opp = np.where(linked, o[pos], -1)
            account = np.where(linked, self.opp_account[np.maximum(opp, 0)], -1)
            w.rows("activities", {"activity_id": _ids("ACT-", np.arange(done, done + len(t)), wd),
                                  "rep_id": self.rep_ids(rep),
                                  "type": _lookup(ACTIVITY_TYPES, typ), "occurred_at": t,
                                  "opportunity_id": _ids("OPP-", opp, ow),
                                  "account_id": _ids("ACC-", account, aw)}, total=total)
            done += len(t)

    def _write_orders(self, w: _Writer) -> None:
        n = len(self.ord_at)
        wd, aw = _width(n), _width(self.n_acc)
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(lo + CHUNK, n))
            w.rows("orders", {"order_id": _ids("ORD-", np.arange(s.start, s.stop), wd),
                              "account_id": _ids("ACC-", self.ord_account[s], aw), "ordered_at": self.ord_at[s],
                              "amount": self.ord_amount[s], "currency": [CURRENCY] * (s.stop - s.start)}, total=n)

    def _write_spend(self, w: _Writer) -> None:
        cal = self.cal
        days = [cal.start + timedelta(days=i) for i in range(cal.n)]
        rows: dict[str, list[Any]] = {k: [] for k in ("date", "channel", "category", "period", "amount",
                                                        "start_at", "end_at")}
        for i, d in enumerate(days):
            for j, c in enumerate(self.daily_channels):
                rows["date"].append(d.isoformat())
                rows["channel"].append(c)
                rows["category"].append("marketing")
                rows["period"].append("day")
                rows["amount"].append(float(self.daily_amount[i, j]))
                rows["start_at"].append(int(cal.day_start[i]))
                rows["end_at"].append(int(cal.day_start[i + 1]))
        for m, c, category, amt in self.monthly_rows:
            key = f"{cal.months[m]:%Y-%m}"
            s, e = periods.key_span(key, cal.tz)
            rows["date"].append(cal.months[m].isoformat())
            rows["channel"].append(c)
            rows["category"].append(category)
            rows["period"].append("month")
            rows["amount"].append(float(amt))
            rows["start_at"].append(periods.to_epoch(s))
            rows["end_at"].append(periods.to_epoch(e))
        w.rows("spend", rows)

    def _actuals(self) -> tuple[np.ndarray, np.ndarray]:
        """Won revenue and deal count per (month index, team)."""
        won = self.opp_status == WON
        m = np.searchsorted(self.cal.month_start, self.opp_closed[won], side="right") - 1
        team = self.acc_team[self.opp_account[won]]
        shape = (len(self.cal.months), len(TEAMS))
        rev = np.zeros(shape)
        deals = np.zeros(shape)
        np.add.at(rev, (m, team), self.opp_amount[won])
        np.add.at(deals, (m, team), 1)
        return rev, deals

    def _write_forecasts_and_targets(self, w: _Writer) -> None:
        rng, cal = self.rng, self.cal
        rev, deals = self._actuals()
        complete = [m for m in range(len(cal.months)) if m + 1 < len(cal.months)
                    and cal.month_start[m + 1] <= cal.anchor_ts]
        fit = complete[3:] or complete  # the first months still ramp up
        mw = np.array([cal.month_weight(m) for m in range(len(cal.months))])
        rate_rev = rev[fit].sum(axis=0) / mw[fit].sum()
        rate_deals = deals[fit].sum(axis=0) / mw[fit].sum()
        expected_rev = mw[:, None] * rate_rev[None, :]
        expected_deals = mw[:, None] * rate_deals[None, :]

        # forecasts: per month and quarter, per team and for the company, submitted before the period
        f_rows: dict[str, list[Any]] = {k: [] for k in ("period", "team", "submitted_at", "amount", "start_at",
                                                        "end_at")}
        anchor_m = cal.months.index(date(cal.anchor.year, cal.anchor.month, 1))
        spans: list[tuple[str, list[int]]] = [(f"{cal.months[m]:%Y-%m}", [m]) for m in range(anchor_m + 2)]
        for m in range(0, anchor_m + 4):
            d = cal.months[m]
            if d.month in (1, 4, 7, 10):
                spans.append((f"{d.year}-Q{(d.month - 1) // 3 + 1}", [m, m + 1, m + 2]))
        for key, ms in spans:
            s, e = periods.key_span(key, cal.tz)
            s_ts, e_ts = periods.to_epoch(s), periods.to_epoch(e)
            done = e_ts <= cal.anchor_ts
            base = rev[ms].sum(axis=0) if done else expected_rev[ms].sum(axis=0)
            team_f = np.round(base * np.exp(rng.normal(0.03, 0.12, len(TEAMS))), -4)
            company_f = round(float(team_f.sum()) * float(np.exp(rng.normal(0, 0.04))), -4)
            for team, amount in [("", company_f)] + list(zip(TEAMS, team_f.tolist(), strict=True)):
                sub = s_ts - int(rng.integers(3, 10)) * DAY + 17 * 3600
                versions = [(sub, amount)]
                if rng.random() < 0.4:  # an earlier draft, revised before the period began
                    versions.insert(0, (sub - 7 * DAY, round(amount * float(np.exp(rng.normal(0, 0.1))), -4)))
                if rng.random() < 0.15:  # a mid-period update, which accuracy must ignore
                    versions.append((s_ts + 10 * DAY + 3600, round(amount * float(np.exp(rng.normal(0, 0.05))), -4)))
                for at, amt in versions:
                    if at < cal.anchor_ts:
                        for k, v in (("period", key), ("team", team), ("submitted_at", at), ("amount", amt),
                                     ("start_at", s_ts), ("end_at", e_ts)):
                            f_rows[k].append(v)
        w.rows("forecasts", f_rows)

        # targets: the plan, growth and season on a stretch of what the teams have been doing
        t_rows: dict[str, list[Any]] = {k: [] for k in ("period", "metric", "team", "rep_id", "value", "start_at",
                                                        "end_at")}
        q_end = anchor_m + 6 - (cal.months[anchor_m].month - 1) % 3  # through the next quarter
        plan_rev = np.round(expected_rev * 1.08, -4)
        plan_deals = np.maximum(np.round(expected_deals * 1.08), 1)

        spans_ts: dict[str, tuple[int, int]] = {}

        def add(period: str, metric: str, team: str, rep: str, value: float) -> None:
            if period not in spans_ts:
                s, e = periods.key_span(period, cal.tz)
                spans_ts[period] = (periods.to_epoch(s), periods.to_epoch(e))
            s_ts, e_ts = spans_ts[period]
            for k, v in (("period", period), ("metric", metric), ("team", team), ("rep_id", rep),
                         ("value", float(value)), ("start_at", s_ts), ("end_at", e_ts)):
                t_rows[k].append(v)

        for m in range(q_end):
            key = f"{cal.months[m]:%Y-%m}"
            mid = cal.month_start[m] + 14 * DAY
            for metric, plan in (("revenue", plan_rev), ("deals_closed", plan_deals)):
                add(key, metric, "", "", plan[m].sum())
                for t, team in enumerate(TEAMS):
                    add(key, metric, team, "", plan[m, t])
                    members = self.team_members[self.team_off[t]: self.team_off[t] + self.team_cnt[t]]
                    here = members[(self.rep_hired[members] <= mid) & (self.rep_left[members] > mid)]
                    share = plan[m, t] / max(len(here), 1) * np.exp(rng.normal(0, 0.1, len(here)))
                    share = np.round(share, -3) if metric == "revenue" else np.maximum(np.round(share), 1)
                    for r, v in zip(self.rep_ids(here), share.tolist(), strict=True):
                        add(key, metric, "", r, v)
            d = cal.months[m]
            if d.month in (1, 4, 7, 10) and m + 2 < q_end:
                qkey = f"{d.year}-Q{(d.month - 1) // 3 + 1}"
                for metric, plan in (("revenue", plan_rev), ("deals_closed", plan_deals)):
                    add(qkey, metric, "", "", plan[m: m + 3].sum())
                    for t, team in enumerate(TEAMS):
                        add(qkey, metric, team, "", plan[m: m + 3, t].sum())
        for lo in range(0, len(t_rows["period"]), CHUNK):
            w.rows("targets", {k: v[lo: lo + CHUNK] for k, v in t_rows.items()}, total=len(t_rows["period"]))

    def _write_surveys(self, w: _Writer) -> None:
        """CSAT after purchases: most after a won deal (rated with its rep), some after an order."""
        rng, cal = self.rng, self.cal
        n_want = int(round(0.12 * self.n_opps))
        won = np.flatnonzero(self.opp_status == WON)
        from_opp = rng.choice(won, size=min(int(n_want * 0.7), len(won)), replace=False)
        from_ord = rng.choice(len(self.ord_at), size=min(n_want - len(from_opp), len(self.ord_at)), replace=False)
        at = np.concatenate([self.opp_closed[from_opp], self.ord_at[from_ord]])
        account = np.concatenate([self.opp_account[from_opp], self.ord_account[from_ord]])
        rep = np.concatenate([self.opp_owner[from_opp], np.full(len(from_ord), -1)])
        at = at + (rng.uniform(1, 14, len(at)) * DAY).astype(np.int64)
        keep = at < cal.anchor_ts
        at, account, rep = at[keep], account[keep], rep[keep]
        order = np.argsort(at, kind="stable")
        at, account, rep = at[order], account[order], rep[order]
        n = len(at)
        score = rng.choice(5, size=n, p=SURVEY_SCORE_P) + 1
        comment = np.where(rng.random(n) < 0.2, rng.integers(0, len(SURVEY_COMMENTS), n), -1)
        comment = np.where((score <= 2) & (comment >= 0), rng.choice([2, 5, 9], n), comment)
        wd, aw = _width(n), _width(self.n_acc)
        for lo in range(0, n, CHUNK):
            s = slice(lo, min(lo + CHUNK, n))
            w.rows("surveys", {"response_id": _ids("SRV-", np.arange(s.start, s.stop), wd),
                               "responded_at": at[s], "score": score[s], "account_id": _ids("ACC-", account[s], aw),
                               "rep_id": self.rep_ids(rep[s]), "comment": _lookup(SURVEY_COMMENTS, comment[s])},
                   total=n)

    def _write_trainings(self, w: _Writer) -> None:
        """Two sessions a month; about half the reps employed that day attend and rate it."""
        rng, cal = self.rng, self.cal
        held, rep, rating, session = [], [], [], []
        k = 0
        for m, d in enumerate(cal.months):
            for dom in (10, 25):
                i = (date(d.year, d.month, dom) - cal.start).days
                i = int(cal.next_work[i]) if i < len(cal.next_work) else i
                if i >= cal.n:
                    continue
                ts = cal.day_start[i]
                here = np.flatnonzero((self.rep_hired <= ts) & (self.rep_left > ts))
                here = here[rng.random(len(here)) < 0.45]
                quality = rng.uniform(3.5, 4.6)
                r = np.clip(np.round(quality + rng.normal(0, 0.8, len(here))), 1, 5)
                held.append(np.full(len(here), ts))
                rep.append(here)
                rating.append(r)
                session.append(np.full(len(here), (2 * m + (dom == 25)) % len(TRAINING_SESSIONS)))
                k += len(here)
        held_a, rep_a, rating_a, session_a = (np.concatenate(x) for x in (held, rep, rating, session))
        wd = _width(k)
        for lo in range(0, k, CHUNK):
            s = slice(lo, min(lo + CHUNK, k))
            w.rows("trainings", {"feedback_id": _ids("TRN-", np.arange(s.start, s.stop), wd),
                                 "held_on": held_a[s], "rating": rating_a[s].astype(float),
                                 "rep_id": self.rep_ids(rep_a[s]),
                                 "session": _lookup(TRAINING_SESSIONS, session_a[s])}, total=k)

    def _write_content_events(self, w: _Writer) -> None:
        """Sales content opened, clicked and shared, by reps and (rep empty) by prospects."""
        rng, cal = self.rng, self.cal
        total = int(round(1.5 * self.n_opps))
        per_day = rng.multinomial(total, cal.weight / cal.weight.sum())
        popularity = 1.0 / np.arange(1, len(CONTENT) + 1) ** 0.8
        popularity /= popularity.sum()
        wd = _width(total)
        done = 0
        for lo, hi in self._day_chunks(per_day):
            day = np.repeat(np.arange(lo, hi), per_day[lo:hi])
            n = len(day)
            t = np.sort(cal.day_start[day] + _any_hour_seconds(rng, n))
            team = rng.choice(len(TEAMS), size=n, p=TEAM_SHARE)
            rep = self._pick_reps(team, t, t)
            rep = np.where(rng.random(n) < 0.15, -1, rep)
            w.rows("content_events", {
                "event_id": _ids("CE-", np.arange(done, done + n), wd),
                "content_id": _lookup(CONTENT, rng.choice(len(CONTENT), size=n, p=popularity)),
                "occurred_at": t, "action": _lookup(CONTENT_ACTIONS, rng.choice(3, size=n, p=CONTENT_ACTION_P)),
                "rep_id": self.rep_ids(rep)}, total=total)
            done += n

    def summary(self, seed: int, n_opps: int, tz: str, counts: dict[str, int], seconds: float) -> DemoSummary:
        return DemoSummary(
            seed=seed, opportunities_asked=n_opps, anchor=self.cal.anchor, start=self.cal.start, tz=tz,
            counts=dict(counts), cac_spike_week=self.cac_week, cac_spike_window=self.cac_window,
            cac_spike_value=self.cac_value, cac_trailing_median=self.cac_median, cac_spend_factor=self.cac_factor,
            retention_drop_quarter=self.retention_key, retention_previous=self.retention_prev,
            retention_dropped=self.retention_dropped, seconds=seconds, notes=list(self.notes))


# ---------------------------------------------------------------- writers


class _Writer:
    """Bulk rows into the canonical tables, the fast path of each database."""

    def __init__(self, engine: Engine, progress: Callable[[str, int, int], None] | None, ru: rollups.Rollups):
        # one SQLAlchemy connection: rows go through its driver connection (COPY, executemany), the
        # derived tables and rollups through it, all in the writer's transaction
        self.sa = engine.connect()
        self.raw = self.sa.connection
        self.con = self.raw.driver_connection
        self.ru = ru
        self.progress = progress
        self.counts: dict[str, int] = {t: 0 for t in TABLES}

    def rows(self, table: str, data: dict[str, Any], total: int | None = None) -> None:
        cols = list(data)
        n = len(data[cols[0]].values if isinstance(data[cols[0]], _Nullable) else data[cols[0]])
        if not n:
            return
        self._insert(table, cols, [data[c] for c in cols])
        self.counts[table] += n
        if self.progress:
            self.progress(table, self.counts[table], total or self.counts[table])

    def clear(self) -> None:
        raise NotImplementedError

    def _insert(self, table: str, cols: list[str], columns: list[Any]) -> None:
        raise NotImplementedError

    def close(self, ok: bool) -> None:
        raise NotImplementedError


class _SqliteWriter(_Writer):
    """executemany of tuples; each chunk its own transaction so the WAL stays small."""

    def __init__(self, engine: Engine, progress: Callable[[str, int, int], None] | None, ru: rollups.Rollups):
        super().__init__(engine, progress, ru)
        # a lost demo load is redone, never repaired: durability is not worth the fsyncs
        self.con.execute("PRAGMA synchronous=OFF")

    def clear(self) -> None:
        for t in TABLES:
            self.con.execute(f"DELETE FROM {t}")
        for t in rollups.DERIVED_TABLES:
            self.con.execute(f"DELETE FROM {t}")
        self.con.commit()

    def _insert(self, table: str, cols: list[str], columns: list[Any]) -> None:
        lists = []
        for c in columns:
            if isinstance(c, _Nullable):
                v = c.values.astype(object)
                v[c.values < 0] = None
                lists.append(v.tolist())
            else:
                lists.append(c.tolist() if isinstance(c, np.ndarray) else c)
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self.con.executemany(sql, zip(*lists, strict=True))
        self.con.commit()

    def close(self, ok: bool) -> None:
        try:
            if ok:
                for sql in (*derive.PURCHASES_REBUILD_SQLITE, *derive.HOURLY_REBUILD):  # derived tables
                    self.con.execute(sql)
                self.con.commit()
                _rollups(self.sa, self.ru)
                self.con.execute("PRAGMA analysis_limit=1000")
                self.con.execute("ANALYZE")
                self.con.commit()
            else:
                self.con.rollback()
            self.con.execute("PRAGMA synchronous=NORMAL")
        finally:
            self.sa.close()


class _PostgresWriter(_Writer):
    """COPY in text format inside one transaction: the load is all or nothing."""

    def __init__(self, engine: Engine, progress: Callable[[str, int, int], None] | None, ru: rollups.Rollups):
        super().__init__(engine, progress, ru)
        self.cur = self.con.cursor()

    def clear(self) -> None:
        self.cur.execute(f"TRUNCATE {', '.join(TABLES)}, {', '.join(rollups.DERIVED_TABLES)}")

    def _insert(self, table: str, cols: list[str], columns: list[Any]) -> None:
        frame = {}
        for name, c in zip(cols, columns, strict=True):
            if isinstance(c, _Nullable):
                frame[name] = pd.arrays.IntegerArray(c.values.astype(np.int64), c.values < 0)
            else:
                frame[name] = c
        # text COPY: tab separated, \N for NULL, "" stays an empty string (composite keys need it)
        buf = pd.DataFrame(frame).to_csv(sep="\t", header=False, index=False, na_rep="\\N",
                                         quoting=csv.QUOTE_NONE, lineterminator="\n")
        with self.cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            copy.write(buf)

    def close(self, ok: bool) -> None:
        try:
            if ok:
                for sql in (*derive.PURCHASES_REBUILD, *derive.HOURLY_REBUILD):  # derived tables
                    self.cur.execute(sql)
                self.cur.execute(f"ANALYZE {', '.join(TABLES)}, purchases")  # the rollups' builds read them
                _rollups(self.sa, self.ru)  # same transaction as the rows
            else:
                self.con.rollback()
        finally:
            self.sa.close()


def _rollups(conn, ru: rollups.Rollups) -> None:
    """Every rollup from the rows just written, committed (kpi_engine/rollups.py)."""
    rollups.rebuild(conn, ru)
    conn.commit()


def _writer(engine: Engine, progress: Callable[[str, int, int], None] | None, ru: rollups.Rollups) -> _Writer:
    if engine.dialect.name == "sqlite":
        return _SqliteWriter(engine, progress, ru)
    if engine.dialect.name == "postgresql":
        return _PostgresWriter(engine, progress, ru)
    raise DemoError(f"the demo company is written to SQLite or PostgreSQL, not {engine.dialect.name}")
