"""The REST API's user tokens: issued once, kept as a SHA-256 digest, revoked by name.

A token is 32 random bytes, so a plain digest (no salt, no slow hash) is enough: nobody
can guess one from its digest, and a lookup by digest costs one indexed read.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from store.models import ApiTokenRow

#: What a token's name may be: it becomes part of the owner, ``api:<name>``.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TokenNameError(ValueError):
    """The name cannot be used (bad characters, or already taken); the message says which."""


@dataclass(frozen=True)
class IssuedToken:
    name: str
    owner: str
    #: The token itself: shown once, never stored.
    token: str


@dataclass(frozen=True)
class TokenRecord:
    name: str
    owner: str
    created_at: float


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def owner_for(name: str) -> str:
    return f"api:{name}"


class TokenRegistry:
    """User tokens in the store's database (the ``api_tokens`` table)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(self, name: str) -> IssuedToken:
        if not NAME_PATTERN.match(name):
            raise TokenNameError(
                "name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
                f"or digit; got {name[:40]!r}"
            )
        token = secrets.token_urlsafe(32)
        row = {
            "token_hash": token_digest(token),
            "name": name,
            "owner": owner_for(name),
            "created_at": time.time(),
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(ApiTokenRow), [row])
        except IntegrityError:
            raise TokenNameError(f"name: a token called {name!r} exists; revoke it first") from None
        return IssuedToken(name, owner_for(name), token)

    def owner_of(self, token: str) -> str | None:
        """The owner the token stands for; None for an unknown or revoked token."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(ApiTokenRow.owner).where(ApiTokenRow.token_hash == token_digest(token))
            ).scalar_one_or_none()
        return found

    def revoke(self, name: str) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(delete(ApiTokenRow).where(ApiTokenRow.name == name))
        return bool(result.rowcount)

    def list(self) -> list[TokenRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ApiTokenRow.name, ApiTokenRow.owner, ApiTokenRow.created_at).order_by(
                    ApiTokenRow.created_at
                )
            ).all()
        return [TokenRecord(row.name, row.owner, row.created_at) for row in rows]
