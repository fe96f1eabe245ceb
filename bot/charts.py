"""Trend charts as PNG: the KPI over its last periods, the target line, the current period marked.

Thai labels need a font with Thai glyphs, which a plain server rarely has: the Noto Sans Thai
wheel (fontpkg-noto-sans-thai) ships one. Without it, or a system Thai font, the chart is labelled in
English so it never shows boxes instead of letters.
"""

from __future__ import annotations

import io
import logging
import threading
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: a server has no display, and Agg is thread-safe per figure

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bot import i18n  # noqa: E402
from bot.blocks import short_period  # noqa: E402
from kpi_engine import format as fmt  # noqa: E402
from kpi_engine.engine import Answer  # noqa: E402
from kpi_engine.periods import Period  # noqa: E402

log = logging.getLogger(__name__)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# matplotlib's font cache and text layout are not thread-safe across figures being drawn at once.
_DRAW_LOCK = threading.RLock()


@lru_cache(maxsize=1)
def thai_font_family() -> str | None:
    """The family name of a font with Thai glyphs, registered with matplotlib; None when there is none."""
    candidates: list[Path] = []
    try:
        import fontpkg_noto_sans_thai  # type: ignore[import-not-found]

        candidates += sorted(Path(fontpkg_noto_sans_thai.__file__).parent.rglob("*.[ot]tf"))
    except ImportError:
        pass
    for path in candidates:
        try:
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
        except (OSError, RuntimeError, ValueError):
            continue
    for entry in font_manager.fontManager.ttflist:
        if "thai" in entry.name.lower():
            return entry.name
    return None


def chart_lang(lang: str) -> str:
    """The language a chart can be labelled in here (English when no Thai font is installed)."""
    if lang == "th" and thai_font_family() is None:
        return "en"
    return lang


def render_trend(
    a: Answer,
    series: list[tuple[Period, float | None]],
    targets: list[tuple[Period, float | None]] | None,
    lang: str,
) -> bytes:
    """A PNG line chart of `series` (oldest first; the last point is the question's period)."""
    with _DRAW_LOCK:
        fig = trend_figure(a, series, targets, lang)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def trend_figure(
    a: Answer,
    series: list[tuple[Period, float | None]],
    targets: list[tuple[Period, float | None]] | None,
    lang: str,
) -> Figure:
    """The chart as a matplotlib Figure (axis labels are periods as kpi_engine.format writes them)."""
    lang = chart_lang(lang)
    family = ["DejaVu Sans"] + ([thai_font_family()] if lang == "th" else [])
    unit, cur = a.spec.unit, a.currency
    scale = 100.0 if unit == "ratio" else 1.0
    xs = list(range(len(series)))
    ys = [None if v is None else v * scale for _, v in series]
    labels = [short_period(p, lang) for p, _ in series]

    with matplotlib.rc_context({"font.family": family, "font.size": 9}):
        fig = Figure(figsize=(8, 3.6), dpi=110)
        ax = fig.add_subplot()
        known = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if known:
            ax.plot([x for x, _ in known], [y for _, y in known], marker="o", color="#1264a3", linewidth=2,
                    label=a.spec.name(lang))
        tvals = [(x, None if t is None else t * scale) for x, (_, t) in zip(xs, targets or [], strict=False)]
        tknown = [(x, y) for x, y in tvals if y is not None]
        if tknown:
            # One dash per period, not a joined line: targets are set per period and may step or be missing.
            ax.hlines([y for _, y in tknown], [x - 0.4 for x, _ in tknown], [x + 0.4 for x, _ in tknown],
                      colors="#e01e5a", linestyles="--", linewidth=1.8, label=i18n.t("target_line", lang))
        last_x, last_y = xs[-1], ys[-1]
        ax.axvspan(last_x - 0.5, last_x + 0.5, color="#ecb22e", alpha=0.18)
        if last_y is not None:
            ax.scatter([last_x], [last_y], s=80, color="#ecb22e", edgecolor="#1d1c1d", zorder=5)
            text = fmt.value(series[-1][1], unit, cur, lang, compact=True)
            if series[-1][0].to_date:
                text += f" ({i18n.t('current_mark', lang)})"
            ax.annotate(text, (last_x, last_y), textcoords="offset points", xytext=(0, 10), ha="right",
                        fontsize=9)
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{a.spec.name(lang)} · {fmt.period_label(a.period, lang)}", fontsize=11)
        ax.yaxis.set_major_formatter(_formatter(unit, cur, lang))
        ax.grid(axis="y", alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if known or tknown:
            ax.legend(loc="upper left", fontsize=8, frameon=False)
        fig.tight_layout()
    return fig


def _formatter(unit: str, cur: str, lang: str):
    from matplotlib.ticker import FuncFormatter

    def f(y: float, _pos: int) -> str:
        if unit == "ratio":
            return f"{y:.0f} %"
        if unit in ("currency", "currency_per_day"):
            return fmt.money(y, cur, compact=True)
        return f"{y:,.0f}" if abs(y) >= 10 else f"{y:,.1f}"

    return FuncFormatter(f)
