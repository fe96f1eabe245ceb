"""What the CLI prints is made safe for a terminal: names come from imported files, and an escape
sequence in a rep's name would otherwise recolour, retitle or rewrite the user's terminal.

    out = safe_console()            # a rich Console that strips control characters from every string
    print_json(obj)                 # JSON on stdout with C1 controls escaped too (json escapes C0 itself)
    clean("a\\x1b[31mb")             # 'ab'

Newline and tab stay; every other C0 and C1 control character goes, and ESC sequences (CSI, OSC,
two-character) go whole, so no stray "[31m" is left behind. Rich's own styling is added after this,
so colours the CLI chooses itself still work.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks (ended by BEL or ST)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other ESC sequence, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # CSI in its C1 form
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # the other C0 and C1 controls (not \t, \n)
)


def clean(text: str) -> str:
    return _ESCAPES.sub("", text) if text else text


def dumps_json(obj: Any, **kw: Any) -> str:
    """json.dumps(ensure_ascii=False) with C1 controls (and DEL) written as \\u escapes: still the same JSON."""
    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, ensure_ascii=False, **kw))


def print_json(obj: Any, **kw: Any) -> None:
    print(dumps_json(obj, **kw))


def safe_console(**options: Any):
    """A rich Console whose strings (print arguments, table cells) pass through clean() first.
    rich is imported here, on first use: `ask --json` never needs it."""
    from rich.console import Console

    class SafeConsole(Console):
        def render_str(self, text: str, **kwargs: Any):  # type: ignore[override]
            return super().render_str(clean(text), **kwargs)

    return SafeConsole(**options)
