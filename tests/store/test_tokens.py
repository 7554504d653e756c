"""The REST API's user tokens in the store: kept hashed, one per name, revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store import SqlStore
from store.models import ApiTokenRow
from store.tokens import TokenNameError, TokenRegistry, token_digest


def test_an_issued_token_maps_to_its_owner_and_only_its_digest_is_stored(
    sql_store: SqlStore,
) -> None:
    tokens = TokenRegistry(sql_store.engine)
    issued = tokens.issue("notebook")

    assert tokens.owner_of(issued.token) == "api:notebook"
    assert tokens.owner_of(issued.token + "x") is None
    with sql_store.engine.connect() as connection:
        stored = connection.execute(select(ApiTokenRow.token_hash)).scalars().all()
    assert stored == [token_digest(issued.token)]


def test_a_name_is_taken_until_revoked(sql_store: SqlStore) -> None:
    tokens = TokenRegistry(sql_store.engine)
    first = tokens.issue("cron")
    with pytest.raises(TokenNameError, match="name: a token called 'cron' exists"):
        tokens.issue("cron")

    assert tokens.revoke("cron") is True
    assert tokens.owner_of(first.token) is None
    assert tokens.issue("cron").token != first.token
    assert tokens.revoke("nobody") is False


@pytest.mark.parametrize("name", ["", "a b", "<script>", "x" * 65, "api:x"])
def test_a_bad_name_is_refused_naming_the_field(sql_store: SqlStore, name: str) -> None:
    with pytest.raises(TokenNameError, match=r"^name: "):
        TokenRegistry(sql_store.engine).issue(name)
