"""The Admin page issues REST API tokens (shown once, stored hashed) and revokes them."""

from __future__ import annotations

from sqlalchemy import text

from app.services import services
from store.sql import SqlStore
from store.tokens import TokenRegistry, token_digest
from tests.app.conftest import ADMIN_PAGE, AppFactory
from tests.app.test_admin_page import PASSWORD, log_in


def issue(make_app: AppFactory, name: str) -> tuple[object, str]:
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run()
    log_in(at)
    at.text_input(key="admin-token-name").set_value(name)
    at.button[[b.label for b in at.button].index("Issue token")].click().run()
    assert not at.exception
    [code] = at.code
    return at, str(code.value)


def registry() -> TokenRegistry:
    backend = services().store.backend
    assert isinstance(backend, SqlStore)
    return TokenRegistry(backend.engine)


def test_an_issued_token_is_shown_once_and_stored_only_hashed(make_app: AppFactory) -> None:
    at, token = issue(make_app, "notebook")

    assert registry().owner_of(token) == "api:notebook"
    with registry().engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert token_digest(token) in stored and token not in stored
    at.run()
    assert not at.code  # shown once: the next run no longer has it
    registry().revoke("notebook")


def test_revoking_a_token_on_the_page_refuses_it(make_app: AppFactory) -> None:
    at, token = issue(make_app, "cron")

    at.selectbox(key="admin-token-revoke-name").set_value("cron")
    at.button(key="admin-token-revoke").click().run()

    assert registry().owner_of(token) is None
    assert "Token 'cron' revoked." in [str(s.value) for s in at.success]


def test_a_bad_name_is_refused_naming_the_field(make_app: AppFactory) -> None:
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run()
    log_in(at)
    at.text_input(key="admin-token-name").set_value("<b>x</b>")
    at.button[[b.label for b in at.button].index("Issue token")].click().run()

    assert not at.code
    assert any(str(e.value).startswith("name:") for e in at.error)
