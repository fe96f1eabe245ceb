"""A local Slack Web API emulator, for the test-suite and the browser sandbox.

    with SlackEmulator() as emu:
        client = WebClient(token="xoxb-test", base_url=emu.api_url)
        client.chat_postMessage(channel="C0SALES", text="hi")
        assert emu.messages("C0SALES")[0]["text"] == "hi"

It only ever listens on (and the helpers only ever talk to) loopback addresses.
"""

from .core import RESPONSE_URL, UPLOAD_URL, SlackEmulator
from .models import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Call, Fault
from .signing import post_to_app, sign_request

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "RESPONSE_URL",
    "TEAM_ID",
    "UPLOAD_URL",
    "Call",
    "Fault",
    "SlackEmulator",
    "post_to_app",
    "sign_request",
]
