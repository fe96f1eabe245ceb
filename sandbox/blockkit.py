"""Block Kit (and legacy attachments, files, threads) → HTML for the sandbox page.

The renderer runs on the server so that escaping lives in one tested place: the page only inserts
these fragments. Interactive elements carry `data-*` attributes that the page's script turns into
signed `block_actions` requests; nothing in here executes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .mrkdwn import MrkdwnRenderer, esc, safe_href, unescape_slack

ImageSource = Callable[[str], str | None]

_BUTTON_STYLES = {"primary": "bk-primary", "danger": "bk-danger"}
_RICH_STYLES = (("code", "code"), ("bold", "b"), ("italic", "i"), ("strike", "s"))


def local_images_only(url: str) -> str | None:
    """Images from the page's own origin only: the sandbox never makes the browser call the internet."""
    return url if url.startswith("/") and not url.startswith("//") else None


class BlockKitRenderer:
    def __init__(
        self,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        channels: Mapping[str, str] | None = None,
        *,
        bot_user_id: str = "U0KPIBOT",
        tz: ZoneInfo | None = None,
        image_src: ImageSource = local_images_only,
        rewrite_url: Callable[[str], str] | None = None,
    ) -> None:
        self.users = {uid: dict(u) for uid, u in (users or {}).items()}
        self.bot_user_id = bot_user_id
        self.tz = tz or ZoneInfo("UTC")
        self.image_src = image_src
        names = {uid: _display_name(u) for uid, u in self.users.items()}
        self.md = MrkdwnRenderer(names, channels, self.tz, rewrite_url)

    # ------------------------------------------------------------------ messages

    def message(
        self,
        message: Mapping[str, Any],
        *,
        channel: str,
        ephemeral: bool = False,
        in_thread: bool = False,
    ) -> str:
        """One message with its author, time, content and (at top level) its thread summary."""
        author_id = str(message.get("user") or "")
        is_bot = bool(message.get("bot_id")) or author_id == self.bot_user_id
        if ephemeral:
            # An ephemeral's `user` is whom it is shown to; the author is always the bot.
            author_id = self.bot_user_id
            is_bot = True
        user = self.users.get(author_id, {})
        name = _display_name(user) if user else (message.get("username") or author_id or "unknown")
        ts = str(message.get("ts") or "")
        classes = ["msg"]
        if is_bot:
            classes.append("msg-bot")
        if ephemeral:
            classes.append("msg-ephemeral")
        parts = [
            f'<div class="{" ".join(classes)}" data-ts="{esc(ts)}" data-channel="{esc(channel)}"'
            f' data-ephemeral="{1 if ephemeral else 0}">',
            f'<div class="avatar" style="--hue:{_hue(author_id)}" aria-hidden="true">'
            f"{esc(_initials(name))}</div>",
            '<div class="msg-main">',
            '<div class="msg-head">',
            f'<span class="msg-author">{esc(name)}</span>',
            '<span class="app-badge">APP</span>' if is_bot else "",
            f'<time class="msg-time" title="{esc(self._datetime(ts, "%Y-%m-%d %H:%M:%S"))}">'
            f"{esc(self._datetime(ts, '%H:%M'))}</time>",
            "</div>",
        ]
        if ephemeral:
            parts.append('<div class="eph-note"><span aria-hidden="true">👁</span> Only visible to you'
                         '<button type="button" class="eph-dismiss" data-dismiss="1">Dismiss</button></div>')
        parts.append(self.content(message))
        if message.get("edited"):
            parts.append('<span class="msg-edited">(edited)</span>')
        if not in_thread and not ephemeral:
            parts.append(self._thread_summary(message))
        parts.append("</div></div>")
        return "".join(parts)

    def content(self, message: Mapping[str, Any]) -> str:
        """What a message shows: its blocks, or else its text (Slack's notification fallback)."""
        blocks = message.get("blocks")
        out = []
        if isinstance(blocks, list) and blocks:
            out.append(self.blocks(blocks))
        elif message.get("text"):
            out.append(f'<div class="msg-text">{self.md.mrkdwn(str(message["text"]))}</div>')
        attachments = message.get("attachments")
        if isinstance(attachments, list):
            out.extend(self.attachment(a) for a in attachments if isinstance(a, dict))
        files = message.get("files")
        if isinstance(files, list):
            out.extend(self.file(f) for f in files if isinstance(f, dict))
        return "".join(out)

    def _thread_summary(self, message: Mapping[str, Any]) -> str:
        count = message.get("reply_count") or 0
        if not isinstance(count, int) or count <= 0:
            return ""
        ts = esc(message.get("ts"))
        last = self._datetime(str(message.get("latest_reply") or ""), "%H:%M")
        label = "1 reply" if count == 1 else f"{count} replies"
        return (
            f'<button type="button" class="thread-link" data-thread-ts="{ts}">'
            f'<span class="thread-count">{label}</span>'
            f'<span class="thread-last">{"Last reply " + esc(last) if last else "View thread"}</span>'
            "</button>"
        )

    # ------------------------------------------------------------------ blocks

    def blocks(self, blocks: list[Any]) -> str:
        return '<div class="bk-blocks">' + "".join(self.block(b) for b in blocks if isinstance(b, dict)) + "</div>"

    def block(self, block: Mapping[str, Any]) -> str:
        kind = block.get("type")
        renderer = {
            "header": self._header,
            "section": self._section,
            "context": self._context,
            "divider": lambda b: '<hr class="bk-divider">',
            "image": self._image_block,
            "actions": self._actions,
            "rich_text": self._rich_text,
            "input": self._input,
            "table": self._table,
            "markdown": lambda b: f'<div class="bk-section">{self.md.mrkdwn(_str(b.get("text")))}</div>',
        }.get(str(kind))
        if renderer is None:
            return f'<div class="bk-unsupported">[{esc(kind)} block]</div>'
        body = renderer(block)
        block_id = block.get("block_id")
        if block_id is None:
            return body
        # The block id travels with a button press, as Slack does.
        return f'<div class="bk-block" data-block-id="{esc(block_id)}">{body}</div>'

    def _table(self, block: Mapping[str, Any]) -> str:
        """A table block: the first row is the header, columns aligned as column_settings say."""
        rows = [r for r in block.get("rows") or [] if isinstance(r, list)]
        settings = [c if isinstance(c, Mapping) else {} for c in block.get("column_settings") or []]

        def cell(tag: str, c: Any, i: int) -> str:
            align = settings[i].get("align") if i < len(settings) else None
            css = f' class="bk-table-{esc(align)}"' if align in ("left", "center", "right") else ""
            if isinstance(c, Mapping) and c.get("type") == "rich_text":
                inner = self._rich_text(c)
            else:
                inner = esc(_str(c.get("text") if isinstance(c, Mapping) else c))
            return f"<{tag}{css}>{inner}</{tag}>"

        if not rows:
            return ""
        head = "".join(cell("th", c, i) for i, c in enumerate(rows[0]))
        body = "".join("<tr>" + "".join(cell("td", c, i) for i, c in enumerate(r)) + "</tr>" for r in rows[1:])
        return f'<div class="bk-table-wrap"><table class="bk-table"><thead><tr>{head}</tr></thead>' \
               f"<tbody>{body}</tbody></table></div>"

    def _header(self, block: Mapping[str, Any]) -> str:
        return f'<div class="bk-header">{self.md.text_object(block.get("text"))}</div>'

    def _section(self, block: Mapping[str, Any]) -> str:
        inner = []
        if block.get("text"):
            inner.append(f'<div class="bk-section-text">{self.md.text_object(block["text"])}</div>')
        fields = block.get("fields")
        if isinstance(fields, list) and fields:
            cells = "".join(f'<div class="bk-field">{self.md.text_object(f)}</div>' for f in fields)
            inner.append(f'<div class="bk-fields">{cells}</div>')
        accessory = block.get("accessory")
        side = ""
        if isinstance(accessory, dict):
            side = f'<div class="bk-accessory">{self.element(accessory, block)}</div>'
        return f'<div class="bk-section"><div class="bk-section-main">{"".join(inner)}</div>{side}</div>'

    def _context(self, block: Mapping[str, Any]) -> str:
        items = []
        for element in block.get("elements") or []:
            if not isinstance(element, dict):
                continue
            if element.get("type") == "image":
                items.append(self._img(element, "bk-context-img"))
            else:
                items.append(f'<span class="bk-context-text">{self.md.text_object(element)}</span>')
        return f'<div class="bk-context">{"".join(items)}</div>'

    def _image_block(self, block: Mapping[str, Any]) -> str:
        title = block.get("title")
        caption = f'<div class="bk-image-title">{self.md.text_object(title)}</div>' if title else ""
        return f'<figure class="bk-image">{caption}{self._img(block, "bk-image-img")}</figure>'

    def _img(self, element: Mapping[str, Any], css: str) -> str:
        url = element.get("image_url")
        slack_file = element.get("slack_file")
        if not url and isinstance(slack_file, dict):
            url = slack_file.get("url") or (f"/files/{slack_file['id']}/image" if slack_file.get("id") else None)
        alt = str(element.get("alt_text") or "")
        src = self.image_src(str(url)) if url else None
        if src is None:
            # Outside images are not fetched: the sandbox page never reaches beyond this machine.
            return f'<span class="{css} bk-img-missing" title="{esc(url)}">🖼 {esc(alt or "image")}</span>'
        return f'<img class="{css}" src="{esc(src)}" alt="{esc(alt)}" loading="lazy">'

    def _actions(self, block: Mapping[str, Any]) -> str:
        items = [self.element(e, block) for e in block.get("elements") or [] if isinstance(e, dict)]
        return f'<div class="bk-actions">{"".join(items)}</div>'

    def _input(self, block: Mapping[str, Any]) -> str:
        label = self.md.text_object(block.get("label"))
        return f'<div class="bk-input"><label>{label}</label><input type="text" disabled></div>'

    # ------------------------------------------------------------------ interactive elements

    def element(self, element: Mapping[str, Any], block: Mapping[str, Any]) -> str:
        kind = element.get("type")
        if kind == "button":
            return self._button(element, block)
        if kind == "image":
            return self._img(element, "bk-accessory-img")
        if kind in ("static_select", "external_select", "users_select", "conversations_select",
                    "channels_select"):
            options = "".join(
                f"<option>{self.md.text_object(o.get('text'))}</option>"
                for o in element.get("options") or [] if isinstance(o, dict)
            )
            placeholder = self.md.text_object(element.get("placeholder")) or "Select"
            return (f'<select class="bk-select" disabled title="Menus are not interactive in the sandbox">'
                    f"<option>{placeholder}</option>{options}</select>")
        if kind == "overflow":
            return '<button type="button" class="bk-button bk-overflow" disabled>⋯</button>'
        if kind == "datepicker":
            return f'<input class="bk-select" type="date" disabled value="{esc(element.get("initial_date"))}">'
        return f'<span class="bk-unsupported">[{esc(kind)}]</span>'

    def _button(self, element: Mapping[str, Any], block: Mapping[str, Any]) -> str:
        style = _BUTTON_STYLES.get(str(element.get("style")), "")
        attrs = {
            "data-action-id": element.get("action_id") or "",
            "data-value": element.get("value") or "",
            "data-block-id": block.get("block_id") or "",
        }
        confirm = element.get("confirm")
        if isinstance(confirm, dict):
            parts = [_plain(confirm.get("title")), _plain(confirm.get("text"))]
            attrs["data-confirm"] = "\n\n".join(p for p in parts if p)
        url = element.get("url")
        href = safe_href(str(url)) if url else None
        if href:
            attrs["data-url"] = href
        rendered = " ".join(f'{name}="{esc(value)}"' for name, value in attrs.items())
        label = self.md.text_object(element.get("text"))
        return f'<button type="button" class="bk-button {style}" {rendered}>{label}</button>'

    # ------------------------------------------------------------------ rich text (what people type)

    def _rich_text(self, block: Mapping[str, Any]) -> str:
        return '<div class="bk-rich">' + "".join(self._rich(e) for e in block.get("elements") or []) + "</div>"

    def _rich(self, element: Any) -> str:
        if not isinstance(element, dict):
            return ""
        kind = element.get("type")
        children = element.get("elements") or []
        if kind == "rich_text_section":
            return "<div>" + "".join(self._rich_inline(c) for c in children) + "</div>"
        if kind == "rich_text_quote":
            return '<blockquote class="bk-quote">' + "".join(self._rich_inline(c) for c in children) + "</blockquote>"
        if kind == "rich_text_preformatted":
            return '<pre class="bk-pre">' + "".join(self._rich_inline(c) for c in children) + "</pre>"
        if kind == "rich_text_list":
            tag = "ol" if element.get("style") == "ordered" else "ul"
            items = "".join(
                "<li>" + "".join(self._rich_inline(x) for x in (c.get("elements") or [])) + "</li>"
                for c in children if isinstance(c, dict)
            )
            return f'<{tag} class="bk-list">{items}</{tag}>'
        return ""

    def _rich_inline(self, element: Any) -> str:
        if not isinstance(element, dict):
            return ""
        kind = element.get("type")
        if kind == "text":
            out = esc(element.get("text")).replace("\n", "<br>")
        elif kind == "link":
            href = safe_href(str(element.get("url") or ""))
            label = esc(element.get("text") or element.get("url"))
            out = (f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{label}</a>'
                   if href else label)
        elif kind == "user":
            out = self.md.mrkdwn(f"<@{element.get('user_id', '')}>")
        elif kind == "channel":
            out = self.md.mrkdwn(f"<#{element.get('channel_id', '')}>")
        elif kind == "emoji":
            out = self.md.plain(f":{element.get('name', '')}:") if not element.get("unicode") else esc(
                "".join(chr(int(cp, 16)) for cp in str(element["unicode"]).split("-") if cp))
        elif kind == "broadcast":
            out = f'<span class="bk-mention bk-broadcast">@{esc(element.get("range"))}</span>'
        else:
            out = esc(element.get("text") or "")
        style = element.get("style") or {}
        for key, tag in _RICH_STYLES:
            if isinstance(style, dict) and style.get(key):
                out = f"<{tag}>{out}</{tag}>"
        return out

    # ------------------------------------------------------------------ legacy attachments and files

    def attachment(self, attachment: Mapping[str, Any]) -> str:
        color = _color(attachment.get("color"))
        parts = []
        if attachment.get("pretext"):
            parts.append(f'<div class="att-pretext">{self.md.mrkdwn(_str(attachment["pretext"]))}</div>')
        body = []
        if attachment.get("author_name"):
            body.append(f'<div class="att-author">{esc(attachment["author_name"])}</div>')
        if attachment.get("title"):
            title = esc(attachment["title"])
            link = safe_href(_str(attachment.get("title_link")))
            if link:
                title = f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer">{title}</a>'
            body.append(f'<div class="att-title">{title}</div>')
        if attachment.get("text"):
            body.append(f'<div class="att-text">{self.md.mrkdwn(_str(attachment["text"]))}</div>')
        fields = attachment.get("fields")
        if isinstance(fields, list) and fields:
            cells = "".join(
                f'<div class="att-field{" att-short" if f.get("short") else ""}">'
                f'<div class="att-field-title">{esc(f.get("title"))}</div>'
                f"<div>{self.md.mrkdwn(_str(f.get('value')))}</div></div>"
                for f in fields if isinstance(f, dict)
            )
            body.append(f'<div class="att-fields">{cells}</div>')
        blocks = attachment.get("blocks")
        if isinstance(blocks, list) and blocks:
            body.append(self.blocks(blocks))
        if attachment.get("image_url"):
            body.append(self._img({"image_url": attachment["image_url"], "alt_text": "attachment"}, "bk-image-img"))
        if attachment.get("footer"):
            body.append(f'<div class="att-footer">{self.md.mrkdwn(_str(attachment["footer"]))}</div>')
        if not body and attachment.get("fallback"):
            body.append(f'<div class="att-text">{esc(attachment["fallback"])}</div>')
        style = f' style="--att-color:{color}"' if color else ""
        parts.append(f'<div class="attachment"{style}>{"".join(body)}</div>')
        return "".join(parts)

    def file(self, file: Mapping[str, Any]) -> str:
        url = str(file.get("url_private") or file.get("permalink") or "")
        src = self.image_src(url) if url else None
        title = esc(file.get("title") or file.get("name") or "file")
        if src and str(file.get("mimetype") or "").startswith("image/"):
            return (f'<figure class="msg-file"><figcaption>{title}</figcaption>'
                    f'<img class="bk-image-img" src="{esc(src)}" alt="{title}" loading="lazy"></figure>')
        link = f'<a href="{esc(src)}" target="_blank" rel="noopener">{title}</a>' if src else title
        return f'<div class="msg-file msg-file-other">📄 {link}</div>'

    # ------------------------------------------------------------------ views and helpers

    def view(self, view: Mapping[str, Any] | None) -> str:
        """An App Home view; its blocks render exactly like a message's."""
        if not view:
            return ""
        blocks = view.get("blocks")
        return f'<div class="home-view">{self.blocks(blocks) if isinstance(blocks, list) else ""}</div>'

    def _datetime(self, ts: str, fmt: str) -> str:
        try:
            return datetime.fromtimestamp(float(ts), self.tz).strftime(fmt)
        except (ValueError, OverflowError, OSError):
            return ""


def _display_name(user: Mapping[str, Any]) -> str:
    profile = user.get("profile") or {}
    return str(user.get("real_name") or profile.get("display_name") or user.get("name") or user.get("id") or "?")


def _initials(name: str) -> str:
    letters = [w[0] for w in str(name).split() if w]
    return ("".join(letters[:2]) or "?").upper()


def _hue(key: str) -> int:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:4], 16) % 360


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _plain(obj: Any) -> str:
    if isinstance(obj, dict):
        return unescape_slack(_str(obj.get("text")))
    return _str(obj)


def _color(value: Any) -> str | None:
    """Attachment colours: Slack's three names or a hex value; anything else could inject CSS."""
    named = {"good": "#2eb67d", "warning": "#ecb22e", "danger": "#e01e5a"}
    if not isinstance(value, str):
        return None
    if value in named:
        return named[value]
    hexa = value.lstrip("#")
    if len(hexa) in (3, 6) and all(c in "0123456789abcdefABCDEF" for c in hexa):
        return "#" + hexa
    return None

