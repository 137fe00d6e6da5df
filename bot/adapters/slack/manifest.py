"""What learnbot's Slack app declares: request paths, the slash command, shortcuts and bot scopes.

`manifest.yaml` at the top of the repository says the same to Slack; a test keeps them equal.
"""

from __future__ import annotations

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
COMMAND = "/learn"
SHORTCUT = "find_lesson"  # message shortcut: find a lesson for this message
CAMPAIGN_SHORTCUT = "lb_new_campaign"  # global shortcut: the 'Announce a pathway' form
SAVE_LESSON_SHORTCUT = "save_lesson"  # message shortcut: an expert saves the message as a micro-lesson
SCOPES = [
    "app_mentions:read",
    "channels:history",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:history",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
]
