"""``/api/tokens``: the admin issues and revokes user tokens (kept hashed)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.auth import AdminDep, StateDep
from api.job_models import unprocessable
from api.models import TokenIn, TokenInfo, TokenOut
from store.tokens import TokenNameError

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


@router.post("", status_code=status.HTTP_201_CREATED, responses={422: {}})
def issue_token(body: TokenIn, who: AdminDep, state: StateDep) -> TokenOut:
    """A new user token for owner ``api:<name>``; the token is in this answer only."""
    try:
        issued = state.tokens.issue(body.name)
    except TokenNameError as exc:
        raise unprocessable("name", str(exc)) from None
    return TokenOut(token=issued.token, owner=issued.owner, name=issued.name)


@router.get("")
def list_tokens(who: AdminDep, state: StateDep) -> list[TokenInfo]:
    return [
        TokenInfo(name=rec.name, owner=rec.owner, created_at=rec.created_at)
        for rec in state.tokens.list()
    ]


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
def revoke_token(name: str, who: AdminDep, state: StateDep) -> None:
    if not state.tokens.revoke(name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token called {name[:64]!r}")
