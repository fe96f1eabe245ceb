"""The browser sandbox: a local Slack-like page over the Slack emulator, for trying kpibot without Slack.

`kpibot run` without Slack credentials starts it (kpibot.run); this package holds the page, the Block
Kit → HTML renderer and the workspace model that turns clicks into signed Slack requests.
"""

from .blockkit import BlockKitRenderer
from .mrkdwn import MrkdwnRenderer
from .web import Broadcaster, create_app
from .workspace import Channel, JobResult, Person, Sandbox, SandboxError, channels_from_config

__all__ = [
    "BlockKitRenderer",
    "Broadcaster",
    "Channel",
    "JobResult",
    "MrkdwnRenderer",
    "Person",
    "Sandbox",
    "SandboxError",
    "channels_from_config",
    "create_app",
]
