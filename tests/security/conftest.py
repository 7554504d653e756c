"""Attacks on the reference app, each through a real server and, where it needs one, a
real browser. The app's fixtures (server, users, AppTests) come from tests/app/conftest.py."""

from tests.app.conftest import app_server, make_app, new_user

__all__ = ["app_server", "make_app", "new_user"]
