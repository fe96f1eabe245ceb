"""Slack emoji shortcodes → unicode, for the ones a KPI bot and its users commonly write.

Unknown shortcodes stay as typed, which is also what Slack shows for an emoji it does not know.
"""

from __future__ import annotations

import re

EMOJI: dict[str, str] = {
    # status and alerts
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "ballot_box_with_check": "☑️",
    "x": "❌", "heavy_multiplication_x": "✖️", "negative_squared_cross_mark": "❎",
    "warning": "⚠️", "rotating_light": "🚨", "bell": "🔔", "no_bell": "🔕", "sos": "🆘",
    "exclamation": "❗", "heavy_exclamation_mark": "❗", "bangbang": "‼️", "question": "❓",
    "grey_question": "❔", "information_source": "ℹ️", "no_entry": "⛔", "no_entry_sign": "🚫",
    "red_circle": "🔴", "large_orange_circle": "🟠", "orange_circle": "🟠",
    "large_yellow_circle": "🟡", "yellow_circle": "🟡", "large_green_circle": "🟢",
    "green_circle": "🟢", "large_blue_circle": "🔵", "blue_circle": "🔵", "white_circle": "⚪",
    "black_circle": "⚫", "red_square": "🟥", "green_square": "🟩", "yellow_square": "🟨",
    "zzz": "💤", "sleeping": "😴", "mute": "🔇", "eyes": "👀", "mag": "🔍", "mag_right": "🔎",
    "ok": "🆗", "new": "🆕", "up": "🆙", "cool": "🆒", "fire": "🔥", "boom": "💥", "sparkles": "✨",
    # trends and numbers
    "chart_with_upwards_trend": "📈", "chart_with_downwards_trend": "📉", "bar_chart": "📊",
    "arrow_up": "⬆️", "arrow_down": "⬇️", "arrow_right": "➡️", "arrow_left": "⬅️",
    "arrow_upper_right": "↗️", "arrow_lower_right": "↘️", "arrow_heading_up": "⤴️",
    "arrow_heading_down": "⤵️", "small_red_triangle": "🔺", "small_red_triangle_down": "🔻",
    "arrow_up_small": "🔼", "arrow_down_small": "🔽", "heavy_plus_sign": "➕", "heavy_minus_sign": "➖",
    "repeat": "🔁", "arrows_counterclockwise": "🔄", "hash": "#️⃣", "100": "💯", "1234": "🔢",
    "dart": "🎯", "trophy": "🏆", "medal": "🏅", "first_place_medal": "🥇",
    "second_place_medal": "🥈", "third_place_medal": "🥉", "rocket": "🚀", "tada": "🎉",
    "moneybag": "💰", "dollar": "💵", "money_with_wings": "💸", "credit_card": "💳",
    "receipt": "🧾", "chart": "💹", "heavy_dollar_sign": "💲", "coin": "🪙", "gem": "💎",
    # time
    "calendar": "📆", "date": "📅", "spiral_calendar_pad": "🗓️", "clock9": "🕘",
    "alarm_clock": "⏰", "stopwatch": "⏱️", "hourglass": "⌛", "hourglass_flowing_sand": "⏳",
    "timer_clock": "⏲️", "sunrise": "🌅", "sunny": "☀️", "crescent_moon": "🌙",
    # work
    "memo": "📝", "pencil": "📝", "clipboard": "📋", "pushpin": "📌", "round_pushpin": "📍",
    "paperclip": "📎", "link": "🔗", "lock": "🔒", "unlock": "🔓", "key": "🔑", "gear": "⚙️",
    "wrench": "🔧", "hammer_and_wrench": "🛠️", "construction": "🚧", "package": "📦",
    "inbox_tray": "📥", "outbox_tray": "📤", "email": "📧", "envelope": "✉️", "mega": "📣",
    "loudspeaker": "📢", "speech_balloon": "💬", "thought_balloon": "💭", "bulb": "💡",
    "books": "📚", "book": "📖", "page_facing_up": "📄", "file_folder": "📁", "briefcase": "💼",
    "office": "🏢", "handshake": "🤝", "busts_in_silhouette": "👥", "bust_in_silhouette": "👤",
    "shopping_trolley": "🛒", "shopping_cart": "🛒", "globe_with_meridians": "🌐",
    "earth_asia": "🌏", "earth_americas": "🌎", "earth_africa": "🌍", "world_map": "🗺️",
    "telephone_receiver": "📞", "phone": "☎️", "iphone": "📱", "computer": "💻",
    "robot_face": "🤖", "flag-th": "🇹🇭", "flag-us": "🇺🇸", "flag-de": "🇩🇪", "flag-gb": "🇬🇧",
    # people and reactions
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "clap": "👏", "wave": "👋",
    "raised_hands": "🙌", "pray": "🙏", "muscle": "💪", "point_right": "👉", "point_left": "👈",
    "point_up": "☝️", "point_down": "👇", "ok_hand": "👌", "smile": "😄", "smiley": "😃",
    "grinning": "😀", "slightly_smiling_face": "🙂", "wink": "😉", "thinking_face": "🤔",
    "confused": "😕", "disappointed": "😞", "cry": "😢", "scream": "😱", "sweat_smile": "😅",
    "joy": "😂", "heart": "❤️", "green_heart": "💚", "blue_heart": "💙", "broken_heart": "💔",
    "star": "⭐", "star2": "🌟", "zap": "⚡", "seedling": "🌱", "snail": "🐌", "turtle": "🐢",
}

_SHORTCODE = re.compile(r":([a-z0-9_+\-]{1,40}):(?::skin-tone-[2-6]:)?")


def emojize(text: str) -> str:
    """Replace known `:shortcode:`s (and Slack's skin-tone suffix) with their unicode character."""

    def one(match: re.Match[str]) -> str:
        return EMOJI.get(match.group(1), match.group(0))

    return _SHORTCODE.sub(one, text)
