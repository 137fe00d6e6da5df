"""Files learnbot sends in Slack (a learner's data export), uploaded into the conversation (files:write)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.delivery import Place, open_dm
from bot.adapters.slack.retries import UNREACHABLE
from bot.events import Reply

log = logging.getLogger(__name__)
Work = Callable[[], list[Reply]]


def sending_files(client: WebClient, place: Place, work: Work) -> Work:
    """`work`, then each reply's file uploaded where the reply goes, just before the reply is posted.

    A refused upload (say, files:write not granted to an older install) is logged; the reply's text
    still says where else to find the file.
    """

    def run() -> list[Reply]:
        replies = work()
        for reply in replies:
            if reply.attachment is None:
                continue
            file = reply.attachment
            try:
                client.files_upload_v2(
                    channel=place.channel or open_dm(client, place.user),
                    thread_ts=place.thread_ts,
                    content=file.content,
                    filename=file.filename,
                    title=file.title or file.filename,
                )
            except (SlackApiError, *UNREACHABLE) as exc:
                log.warning("slack file upload for %s failed: %r", place.user, exc)
        return replies

    return run
