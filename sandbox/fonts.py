"""Fonts the sandbox page serves itself: a plain Linux machine (a CI runner, a server, WSL) often has
neither an emoji font nor a Thai one, and its browser then draws boxes for 📊 🟢 ✅ and for Thai.

- Noto Color Emoji (SIL OFL 1.1) from Debian's fonts-noto-color-emoji package, which `make install`
  unpacks into sandbox/vendor/fonts (scripts/sandbox-fonts). Its colour bitmap (CBDT) version:
  the COLRv1 web font draws blank in Chromium builds that use an older system FreeType (Debian's).
- Noto Sans Thai (SIL OFL 1.1) from the fontpkg-noto-sans-thai wheel the charts already use.

Either missing: the page falls back to the browser's own fonts (the CSS simply leaves it out).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

VENDOR = Path(__file__).with_name("vendor") / "fonts"
EMOJI_FAMILY = "Noto Color Emoji"
THAI_FAMILY = "Noto Sans Thai"
# Emoji code points only (not digits, # or *, which the font also holds for keycaps), so text never
# picks up the emoji font's digits.
EMOJI_RANGE = ("U+00A9, U+00AE, U+203C, U+2049, U+2122, U+2139, U+2194-21AA, U+231A-23FF, U+24C2, "
               "U+25AA-25FE, U+2600-27BF, U+2934-2935, U+2B05-2B55, U+3030, U+303D, U+3297, U+3299, "
               "U+FE0F, U+200D, U+20E3, U+1F000-1FAFF, U+E0020-E007F")


def emoji_font() -> Path | None:
    path = VENDOR / "NotoColorEmoji.ttf"
    return path if path.is_file() and path.stat().st_size > 0 else None


def thai_font() -> Path | None:
    try:
        import fontpkg_noto_sans_thai  # type: ignore[import-not-found]
    except ImportError:
        return None
    found = sorted(Path(fontpkg_noto_sans_thai.__file__).parent.rglob("*.ttf"))
    return found[0] if found else None


def _face(family: str, url: str, fmt: str, weight: str, unicode_range: str) -> str:
    return (f"@font-face {{\n  font-family: '{family}';\n  font-style: normal;\n  font-display: swap;\n"
            f"  font-weight: {weight};\n  src: url({url}) format('{fmt}');\n  unicode-range: {unicode_range};\n}}")


@lru_cache(maxsize=1)
def fonts_css() -> str:
    """@font-face rules for what is installed, with URLs this page serves (/fonts/…)."""
    parts = ["/* fonts served by the sandbox page itself (sandbox/fonts.py) */"]
    if thai_font() is not None:
        parts.append(_face(THAI_FAMILY, "/fonts/thai.ttf", "truetype", "100 900", "U+0E01-0E5B, U+200C-200D, U+25CC"))
    if emoji_font() is not None:
        parts.append(_face(EMOJI_FAMILY, "/fonts/emoji.ttf", "truetype", "400", EMOJI_RANGE))
    return "\n".join(parts) + "\n"
