"""Slack mrkdwn → safe HTML.

Everything a bot or a person wrote is untrusted here: text is HTML-escaped before any markup is
added, and only links with an http(s) or mailto scheme become anchors. Slack's own escaping
(`&amp;`, `&lt;`, `&gt;`) is undone first so a message shows what Slack would show, then the
result is escaped again for the browser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .emoji import emojize

# Slack's special tokens: <url|label>, <@U…>, <#C…|name>, <!here>, <!date^…|fallback>, …
_ANGLE = re.compile(r"<([^<>\n]{1,2000})>")
_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
# Formatting markers count only at word boundaries, as in Slack: 2*3*4 stays arithmetic.
_BOUND_L = r"(?<![\w\\])"
_BOUND_R = r"(?!\w)"
_BOLD = re.compile(_BOUND_L + r"\*(?=\S)([^*\n]+?)(?<=\S)\*" + _BOUND_R)
_ITALIC = re.compile(_BOUND_L + r"_(?=\S)([^_\n]+?)(?<=\S)_" + _BOUND_R)
_STRIKE = re.compile(_BOUND_L + r"~(?=\S)([^~\n]+?)(?<=\S)~" + _BOUND_R)
# Placeholders use a control character that cannot survive into the text (it is stripped first).
_MARK = "\x00"
_PLACEHOLDER = re.compile(_MARK + r"(\d+)" + _MARK)
_SAFE_SCHEMES = ("http", "https", "mailto")


def unescape_slack(text: str) -> str:
    """Slack escapes exactly these three; anything else (&nbsp; …) is shown literally, as Slack does."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def safe_href(url: str) -> str | None:
    """The URL if a browser may follow it from the sandbox (no javascript:, data:, …), else None."""
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in _SAFE_SCHEMES else None


class MrkdwnRenderer:
    """Converts mrkdwn with knowledge of the workspace (user and channel names, time zone)."""

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        channels: Mapping[str, str] | None = None,
        tz: ZoneInfo | None = None,
        rewrite_url: Callable[[str], str] | None = None,
    ) -> None:
        self.users = dict(users or {})
        self.channels = dict(channels or {})
        self.tz = tz or ZoneInfo("UTC")
        self.rewrite_url = rewrite_url or (lambda u: u)

    # ------------------------------------------------------------------ public

    def mrkdwn(self, text: str | None) -> str:
        if not text:
            return ""
        stash: list[str] = []

        def keep(fragment: str) -> str:
            stash.append(fragment)
            return f"{_MARK}{len(stash) - 1}{_MARK}"

        text = text.replace(_MARK, "")
        # Code first: nothing inside code is formatted, not even links or emoji.
        text = _CODE_BLOCK.sub(lambda m: keep(f"<pre class=\"bk-pre\">{_show(m.group(1))}</pre>"), text)
        text = _INLINE_CODE.sub(lambda m: keep(f"<code class=\"bk-code\">{_show(m.group(1))}</code>"), text)
        text = _ANGLE.sub(lambda m: keep(self._angle(m.group(1))), text)
        text = _show(text)
        text = _STRIKE.sub(r"<s>\1</s>", text)
        text = _BOLD.sub(r"<b>\1</b>", text)
        text = _ITALIC.sub(r"<i>\1</i>", text)
        text = emojize(text)
        text = _quotes_and_breaks(text)
        # A placeholder can hold another (a link inside a code span cannot, but be safe about order).
        while _PLACEHOLDER.search(text):
            text = _PLACEHOLDER.sub(lambda m: stash[int(m.group(1))], text)
        return text

    def plain(self, text: str | None, emoji: bool = True) -> str:
        """A plain_text object: escaped, emoji shortcodes converted when the object asks for it."""
        if not text:
            return ""
        escaped = esc(text.replace(_MARK, "")).replace("\n", "<br>")
        return emojize(escaped) if emoji else escaped

    def text_object(self, obj: object) -> str:
        """A Block Kit text object (`{"type": "mrkdwn"|"plain_text", "text": …}`), or a bare string."""
        if isinstance(obj, str):
            return self.mrkdwn(obj)
        if not isinstance(obj, dict):
            return ""
        text = obj.get("text")
        text = text if isinstance(text, str) else ""
        if obj.get("type") == "plain_text":
            return self.plain(text, emoji=obj.get("emoji", True) is not False)
        if obj.get("verbatim"):
            return _show(text.replace(_MARK, "")).replace("\n", "<br>")
        return self.mrkdwn(text)

    # ------------------------------------------------------------------ tokens

    def _angle(self, inner: str) -> str:
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            user_id = target[1:]
            name = self.users.get(user_id) or label or user_id
            return f'<span class="bk-mention" data-user="{esc(user_id)}">@{_show(name)}</span>'
        if target.startswith("#"):
            channel_id = target[1:]
            name = label or self.channels.get(channel_id) or channel_id
            return f'<span class="bk-mention">#{_show(name)}</span>'
        if target.startswith("!"):
            return self._special(target[1:], label)
        href = safe_href(unescape_slack(target))
        shown = _show(label or target)
        if href is None:
            # Not a link Slack would make (e.g. "<script>"): show the characters, inert.
            return esc("<" + unescape_slack(inner) + ">")
        href = self.rewrite_url(href)
        return f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{shown}</a>'

    def _special(self, command: str, label: str) -> str:
        head, *rest = command.split("^")
        if head in ("here", "channel", "everyone"):
            return f'<span class="bk-mention bk-broadcast">@{head}</span>'
        if head == "subteam":
            return f'<span class="bk-mention">{_show(label or "@group")}</span>'
        if head == "date" and rest:
            return esc(self._date(rest, label))
        return _show(label or f"<!{command}>")

    def _date(self, parts: list[str], fallback: str) -> str:
        try:
            moment = datetime.fromtimestamp(int(parts[0]), self.tz)
        except (ValueError, OverflowError, OSError):
            return unescape_slack(fallback)
        fmt = parts[1] if len(parts) > 1 else "{date_short}"
        tokens = {
            "{date_num}": moment.strftime("%Y-%m-%d"),
            "{date}": moment.strftime("%B %-d, %Y"),
            "{date_short}": moment.strftime("%b %-d, %Y"),
            "{date_long}": moment.strftime("%A, %B %-d, %Y"),
            "{date_pretty}": moment.strftime("%B %-d, %Y"),
            "{date_short_pretty}": moment.strftime("%b %-d, %Y"),
            "{date_long_pretty}": moment.strftime("%A, %B %-d, %Y"),
            "{time}": moment.strftime("%H:%M"),
            "{time_secs}": moment.strftime("%H:%M:%S"),
        }
        for token, value in tokens.items():
            fmt = fmt.replace(token, value)
        return unescape_slack(fmt)


def esc(value: object) -> str:
    """HTML-escape anything for text or a quoted attribute (None is empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def _show(slack_text: str) -> str:
    """Text as Slack stores it (its three entities escaped) → HTML showing what Slack shows."""
    return esc(unescape_slack(slack_text))


def _quotes_and_breaks(escaped: str) -> str:
    """Lines starting with '>' become one blockquote per run; other newlines become <br>."""
    out: list[str] = []
    quote: list[str] = []
    for line in escaped.split("\n"):
        if line.startswith("&gt;"):
            quote.append(line[4:].removeprefix(" "))
            continue
        if quote:
            out.append('<blockquote class="bk-quote">' + "<br>".join(quote) + "</blockquote>")
            quote = []
        out.append(line)
    if quote:
        out.append('<blockquote class="bk-quote">' + "<br>".join(quote) + "</blockquote>")
    # A blockquote is a block element: the line break around it would double the spacing.
    joined = ""
    for i, part in enumerate(out):
        if i and not part.startswith("<blockquote") and not out[i - 1].startswith("<blockquote"):
            joined += "<br>"
        joined += part
    return joined
