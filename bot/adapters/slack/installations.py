"""Slack workspace installations (OAuth) and OAuth states, in our database.

One learnbot install serves one workspace: admins (app.yaml) and learners' data are not kept
apart by workspace, so the first workspace that installs it is the only one; a second
workspace's install is refused with a page that says why (`OtherWorkspace`), while the same
workspace may reinstall (new scopes, a new token) at any time.

These implement slack_sdk's `InstallationStore` and `OAuthStateStore` interfaces on our
SQLModel tables, so Bolt's OAuth flow and authorisation read and write them like any store.
(slack_sdk's own SQLAlchemy stores import SQLAlchemy's asyncio extension, which needs greenlet.)
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import secrets
from collections.abc import Callable
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from storage.db import session_scope
from storage.models import SlackInstallation, SlackOAuthState, utcnow

log = logging.getLogger(__name__)
STATE_EXPIRY = dt.timedelta(minutes=10)


class OtherWorkspace(BoltError):
    """A workspace other than the one learnbot already serves tried to install it."""

    def __init__(self, serving: str, refused: str) -> None:
        super().__init__(f"learnbot already serves workspace {serving}; refused an install for {refused}")
        self.serving, self.refused = serving, refused


def other_workspace_page(error: OtherWorkspace) -> str:
    """The page shown to someone whose workspace cannot install learnbot here, and what to do."""
    return (
        "<html><head><title>learnbot: one workspace per install</title></head><body>"
        "<h1>learnbot was not installed</h1>"
        f"<p>This learnbot already serves another Slack workspace ({html.escape(error.serving)}), and one "
        "install serves one workspace: its L&amp;D admins and its learners' questions and progress are not "
        "kept apart per workspace.</p>"
        f"<p>To use learnbot in this workspace ({html.escape(error.refused)}), ask your L&amp;D team to "
        "run a separate learnbot (its own database and app.yaml) for it.</p></body></html>"
    )


def _plain(installation: Installation) -> dict[str, Any]:
    """slack_sdk's dict for copying, with datetimes as timestamps so it fits a JSON column."""
    data = installation.to_dict_for_copying()
    return {k: (v.timestamp() if isinstance(v, dt.datetime) else v) for k, v in data.items()}


class DatabaseInstallationStore(InstallationStore):
    """Installs per workspace; the newest one for a workspace carries the bot token Bolt uses."""

    def __init__(self, engine: Engine, client_id: str) -> None:
        self.engine, self.client_id = engine, client_id

    @property
    def logger(self) -> logging.Logger:
        return log

    def serving(self, session: Session) -> str | None:
        """The workspace (or org) this install serves: the one that installed it first."""
        first = session.exec(
            select(SlackInstallation)
            .where(SlackInstallation.client_id == self.client_id)
            .order_by(col(SlackInstallation.installed_at), col(SlackInstallation.id))
        ).first()
        return None if first is None else (first.team_id or first.enterprise_id)

    def save(self, installation: Installation) -> None:
        """Keep every install of the served workspace (history; lookups take the newest); refuse others."""
        with session_scope(self.engine) as session:
            serving = self.serving(session)
            workspace = installation.team_id or installation.enterprise_id or ""
            if serving is not None and serving != workspace:
                log.warning("refused a Slack install for %s: this learnbot serves %s", workspace, serving)
                raise OtherWorkspace(serving, workspace)
            session.add(
                SlackInstallation(
                    client_id=self.client_id,
                    enterprise_id=installation.enterprise_id,
                    team_id=installation.team_id,
                    user_id=installation.user_id,
                    is_enterprise_install=bool(installation.is_enterprise_install),
                    data=_plain(installation),
                )
            )
        log.info("saved Slack installation for team %s", installation.team_id or installation.enterprise_id)

    def save_bot(self, bot: Bot) -> None:
        """Bots are read from the newest installation, so there is nothing separate to save."""

    def _latest(
        self, session: Session, enterprise_id: str | None, team_id: str | None, user_id: str | None, org: bool
    ) -> SlackInstallation | None:
        query = select(SlackInstallation).where(
            SlackInstallation.client_id == self.client_id, SlackInstallation.enterprise_id == enterprise_id
        )
        if not org:
            query = query.where(SlackInstallation.team_id == team_id)
        if user_id is not None:
            query = query.where(SlackInstallation.user_id == user_id)
        query = query.order_by(col(SlackInstallation.installed_at).desc(), col(SlackInstallation.id).desc())
        return session.exec(query).first()

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The newest install for this workspace (and user, when given), as slack_sdk's Installation."""
        with session_scope(self.engine) as session:
            row = self._latest(session, enterprise_id, team_id, user_id, bool(is_enterprise_install))
            return Installation(**row.data) if row else None

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        """The bot token and ids Bolt authorises events with, from the newest install."""
        installation = self.find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return installation.to_bot() if installation and installation.bot_token else None

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace's installs (on uninstall or token revocation)."""
        with session_scope(self.engine) as session:
            query = delete(SlackInstallation).where(
                col(SlackInstallation.client_id) == self.client_id,
                col(SlackInstallation.enterprise_id) == enterprise_id,
                col(SlackInstallation.team_id) == team_id,
            )
            if user_id is not None:
                query = query.where(col(SlackInstallation.user_id) == user_id)
            session.exec(query)  # type: ignore[call-overload]

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class DatabaseOAuthStateStore(OAuthStateStore):
    """Random one-time states: `consume` succeeds once, within ten minutes of `issue`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """A new unguessable state for one install attempt."""
        state = secrets.token_urlsafe(32)
        with session_scope(self.engine) as session:
            session.add(SlackOAuthState(state=state, expire_at=utcnow() + STATE_EXPIRY))
        return state

    def consume(self, state: str) -> bool:
        """True once for a state issued in the last ten minutes; a replay or forgery is False."""
        with session_scope(self.engine) as session:
            row = session.get(SlackOAuthState, state[:200])
            if row is None:
                return False
            session.delete(row)
            expire_at = row.expire_at if row.expire_at.tzinfo else row.expire_at.replace(tzinfo=dt.UTC)
            return expire_at > utcnow()


def installation_store(engine: Engine, client_id: str) -> DatabaseInstallationStore:
    """The store Bolt's OAuth flow and authorisation use, on learnbot's database."""
    return DatabaseInstallationStore(engine, client_id)


def state_store(engine: Engine) -> DatabaseOAuthStateStore:
    """OAuth states on learnbot's database, so any replica can finish an install another began."""
    return DatabaseOAuthStateStore(engine)


def bot_tokens(engine: Engine, client_id: str) -> Callable[[str | None], str | None]:
    """A workspace's bot token from its newest install, for the outbox sender (several workspaces)."""
    store = installation_store(engine, client_id)

    def token_for(team: str | None) -> str | None:
        bot = store.find_bot(enterprise_id=None, team_id=team) if team else None
        return bot.bot_token if bot else None

    return token_for
