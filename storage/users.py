"""People: find or create a user from a platform identity, and remember how to reach them."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import ConversationReference, User, utcnow


def ensure_user(
    *,
    session: Session,
    platform: str,
    platform_user_id: str,
    display_name: str | None = None,
    role: str | None = None,
    timezone: str | None = None,
) -> User:
    """The stored user for this identity, created at first contact; the platform's time zone kept fresh.

    `role` only fills an empty role: a role set from a roster (say "support") is what audience
    rules match, and the chat's own notion of the person (learner or admin) must not overwrite it.
    """
    user = session.exec(
        select(User).where(User.platform == platform, User.platform_user_id == platform_user_id)
    ).first()
    if user is None:
        user = User(
            platform=platform,
            platform_user_id=platform_user_id,
            display_name=display_name,
            role=role,
            timezone=timezone,
        )
        session.add(user)
        session.flush()
    elif (
        (display_name and user.display_name != display_name)
        or (role and not user.role)
        or (timezone and user.timezone != timezone)
    ):
        user.display_name = display_name or user.display_name
        user.role = role or user.role
        user.timezone = timezone or user.timezone
        session.add(user)
    return user


def remember_conversation(
    *, session: Session, user: User, platform: str, channel_id: str, service_url: str | None = None
) -> ConversationReference:
    """Store (or refresh) where to reach this user later, e.g. for nudges."""
    assert user.id is not None
    ref = session.exec(
        select(ConversationReference).where(
            ConversationReference.user_id == user.id, ConversationReference.platform == platform
        )
    ).first()
    if ref is None:
        ref = ConversationReference(user_id=user.id, platform=platform, channel_id=channel_id)
    ref.channel_id, ref.service_url, ref.updated_at = channel_id, service_url, utcnow()
    session.add(ref)
    return ref
