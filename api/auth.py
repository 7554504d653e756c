"""Bearer tokens as dependencies: the admin's ``API_TOKEN``, or a user token from the store."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.state import ApiState, api_state

#: The owner of tasks the admin submits through the API.
ADMIN_OWNER = "api:admin"

_bearer = HTTPBearer(auto_error=False, description="An API token: `API_TOKEN`, or a user token")


@dataclass(frozen=True)
class Caller:
    owner: str
    is_admin: bool


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    state: Annotated[ApiState, Depends(api_state)],
) -> Caller:
    """Who is calling; 401 for a missing, unknown or revoked token."""
    if credentials is None or not credentials.credentials:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    token = credentials.credentials
    admin = state.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Caller(ADMIN_OWNER, is_admin=True)
    owner = state.tokens.owner_of(token)
    if owner is None:
        raise _unauthorized("unknown or revoked token")
    return Caller(owner, is_admin=False)


def admin(who: Annotated[Caller, Depends(caller)]) -> Caller:
    """The admin only; 403 for a user token."""
    if not who.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route needs the admin token")
    return who


CallerDep = Annotated[Caller, Depends(caller)]
AdminDep = Annotated[Caller, Depends(admin)]
StateDep = Annotated[ApiState, Depends(api_state)]
