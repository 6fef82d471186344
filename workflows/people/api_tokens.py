"""The administrators' view of API tokens: the list, issuing one for an account, revoking one.

The command line (`jiefen token create|revoke`) does the same as the system actor; here every
service refuses anyone but an administrator before it reads or writes anything. Issuing and
revoking are audited by ``workflows.access.tokens``; a token's secret is shown once and never
stored (only its prefix and hash are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from workflows.access import tokens
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.models import ApiToken, User
from workflows.people.admin import require_admin
from workflows.runtime.unit_of_work import UnitOfWork

TOKENS_PAGE = 50
STATES = ("active", "revoked", "expired")


@dataclass(frozen=True)
class TokenRow:
    """One token as the list shows it (never its secret or hash)."""

    id: int
    name: str            # "" when the token has only the name made up from channel and account
    prefix: str
    channel: str
    username: str
    display_name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: str           # one of STATES


@dataclass(frozen=True)
class TokenPage:
    rows: list[TokenRow]
    total: int
    page: int
    pages: int


def list_tokens(uow: UnitOfWork, actor: Actor, *, state: str = "", username: str = "",
                page: int = 1) -> TokenPage:
    """Tokens newest first, one page at a time, optionally of one state or one account."""
    require_admin(actor, uow.services)
    now = uow.clock.now()
    query = select(ApiToken, User.username, User.display_name).outerjoin(
        User, User.id == ApiToken.user_id)
    if state == "active":
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    elif state == "revoked":
        query = query.where(ApiToken.revoked_at.is_not(None))
    elif state == "expired":
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at <= now)
    if username:
        query = query.where(User.username == username)
    with uow.reading():
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max(1, -(-total // TOKENS_PAGE))
        page = min(max(page, 1), pages)
        found = uow.session.execute(query.order_by(ApiToken.id.desc())
                                    .offset((page - 1) * TOKENS_PAGE).limit(TOKENS_PAGE))
        rows = [_row(token, name or "", display or "", now) for token, name, display in found]
    return TokenPage(rows, total, page, pages)


def _row(token: ApiToken, username: str, display_name: str, now: datetime) -> TokenRow:
    state = ("revoked" if token.revoked_at is not None
             else "expired" if token.expires_at <= now else "active")
    made_up = token.name == f"{token.channel}:{username}"   # issue_token's default name
    return TokenRow(token.id, "" if made_up else token.name, token.prefix, token.channel,
                    username, display_name, token.created_at, token.expires_at,
                    token.last_used_at, token.revoked_at, state)


def issue(uow: UnitOfWork, actor: Actor, *, username: str, channel: str, name: str = "",
          days: int = tokens.DEFAULT_DAYS) -> tokens.IssuedToken:
    """A new token for an active account; an unknown or disabled account is a field error."""
    require_admin(actor, uow.services)
    missing = {key: FieldError(FieldCode.REQUIRED)
               for key, value in (("username", username), ("channel", channel)) if not value}
    if missing:
        raise InvalidInput(missing)
    try:
        return tokens.issue_token(uow, actor, username=username, channel=channel, name=name,
                                  days=days)
    except NotFound:
        raise InvalidInput({"username": FieldError(ErrorCode.USER_NOT_FOUND,
                                                   {"username": username})}) from None


def revoke(uow: UnitOfWork, actor: Actor, token_id: int) -> bool:
    """Revoke one token; False when it was revoked already (another administrator, say)."""
    require_admin(actor, uow.services)
    return tokens.revoke_token_id(uow, actor, token_id)
