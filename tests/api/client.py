"""Calling the API through nginx as a user or the admin."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.stack import ADMIN_TOKEN, Stack
from tests.support.wait import wait_until


def client(stack: Stack, token: str | None = ADMIN_TOKEN) -> httpx.Client:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=stack.url, headers=headers, timeout=30)


def user_token(stack: Stack, name: str) -> str:
    with client(stack) as admin:
        answer = admin.post("/api/tokens", json={"name": name})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def wait_status(api: httpx.Client, task_id: str, *statuses: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        task: dict[str, Any] = api.get(f"/api/tasks/{task_id}").json()
        return task if task["status"] in statuses else None

    return wait_until(reached, message=f"task {task_id} to reach {statuses}")
