"""The REST API through nginx, on a stack started by ./main.sh."""

from __future__ import annotations

import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.api.client import client, user_token, wait_status
from tests.support.stack import ADMIN_TOKEN, Stack
from tests.support.wait import wait_until

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]


def test_health_needs_no_token_and_says_the_database_is_ok(stack: Stack) -> None:
    with client(stack, token=None) as anyone:
        answer = anyone.get("/api/health")
    assert answer.status_code == 200
    assert answer.json()["database"] == "ok"


def test_a_missing_or_wrong_token_is_401(stack: Stack) -> None:
    with client(stack, token=None) as anyone:
        assert anyone.get("/api/tasks").status_code == 401
    with client(stack, token="not-a-token") as stranger:
        answer = stranger.get("/api/jobs")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_user_token_on_an_admin_route_is_403(stack: Stack) -> None:
    with client(stack, user_token(stack, "eve")) as eve:
        assert eve.get("/api/admin/tasks").status_code == 403
        assert eve.post("/api/tokens", json={"name": "mallory"}).status_code == 403


def test_a_revoked_token_is_401(stack: Stack) -> None:
    token = user_token(stack, "leaver")
    with client(stack) as admin:
        assert admin.delete("/api/tokens/leaver").status_code == 204
    with client(stack, token) as leaver:
        assert leaver.get("/api/tasks").status_code == 401


def test_jobs_list_their_parameters_from_the_registry(stack: Stack) -> None:
    with client(stack, user_token(stack, "reader")) as reader:
        jobs = {job["key"]: job for job in reader.get("/api/jobs").json()}
    samples = {param["name"]: param for param in jobs["monte_carlo_pi"]["params"]}["samples"]
    assert samples["kind"] == "int"
    assert samples["minimum"] is not None and samples["maximum"] is not None
    assert jobs["csv_profile"]["uploads"] is True


def test_submit_then_poll_until_the_result(stack: Stack) -> None:
    with client(stack, user_token(stack, "alice")) as alice:
        answer = alice.post("/api/jobs/monte_carlo_pi", json={"samples": 20_000, "seed": 1})
        assert answer.status_code == 201, answer.text
        task = answer.json()
        assert task["owner"] == "api:alice" and task["job"] == "monte_carlo_pi"
        done = wait_status(alice, task["id"], "SUCCESS")
        assert done["result"]["samples"] == 20_000
        assert task["id"] in [listed["id"] for listed in alice.get("/api/tasks").json()]
        assert alice.delete(f"/api/tasks/{task['id']}").status_code == 409


def test_another_owners_task_is_404(stack: Stack) -> None:
    with client(stack, user_token(stack, "owner1")) as owner:
        task = owner.post("/api/jobs/monte_carlo_pi", json={"samples": 10_000}).json()
    with client(stack, user_token(stack, "other1")) as other:
        assert other.get(f"/api/tasks/{task['id']}").status_code == 404
        assert other.delete(f"/api/tasks/{task['id']}").status_code == 404
        assert task["id"] not in [listed["id"] for listed in other.get("/api/tasks").json()]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"samples": -3}, "samples"),
        ({"samples": "many"}, "samples"),
        ({"no_such": 1}, "no_such"),
    ],
)
def test_a_bad_parameter_is_422_naming_it(
    stack: Stack, body: dict[str, object], field: str
) -> None:
    with client(stack, user_token(stack, f"typo-{field}-{len(str(body))}")) as user:
        answer = user.post("/api/jobs/monte_carlo_pi", json=body)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["detail"]
    assert errors[0]["loc"][-1] == field
    assert errors[0]["msg"].startswith(f"{field}:")


def test_an_unknown_job_is_404(stack: Stack) -> None:
    with client(stack, user_token(stack, "lost")) as lost:
        answer = lost.post("/api/jobs/no_such_job", json={})
    assert answer.status_code == 404
    assert "monte_carlo_pi" in answer.json()["detail"]


def test_a_full_queue_is_429_and_cancel_empties_it(stack: Stack) -> None:
    with client(stack, user_token(stack, "greedy")) as greedy:
        codes, ids = [], []
        for _ in range(6):
            answer = greedy.post("/api/jobs/batch_steps", json={"steps": 500, "step_s": 0.1})
            codes.append(answer.status_code)
            if answer.status_code == 201:
                ids.append(answer.json()["id"])
        assert 429 in codes and codes[0] == 201, codes
        for task_id in ids:
            assert greedy.delete(f"/api/tasks/{task_id}").status_code == 200
        for task_id in ids:
            wait_status(greedy, task_id, "CANCELLED")


def test_a_file_parameter_is_a_multipart_upload(stack: Stack) -> None:
    csv = b"city,amount\nOslo,3\nLima,4\nOslo,5\n"
    with client(stack, user_token(stack, "uploader")) as uploader:
        answer = uploader.post(
            "/api/jobs/csv_profile",
            files={"csv_file": ("orders.csv", csv, "text/csv")},
            data={"chunk_rows": "10"},
        )
        assert answer.status_code == 201, answer.text
        done = wait_status(uploader, answer.json()["id"], "SUCCESS", "ERROR")
        assert done["status"] == "SUCCESS", done
        as_json = uploader.post("/api/jobs/csv_profile", json={"csv_file": "a,b"})
    assert as_json.status_code == 422
    assert as_json.json()["detail"][0]["loc"][-1] == "csv_file"


def test_the_admin_sees_and_cancels_any_owners_task(stack: Stack) -> None:
    with client(stack, user_token(stack, "worker")) as worker, client(stack) as admin:
        task = worker.post("/api/jobs/batch_steps", json={"steps": 500, "step_s": 0.1}).json()
        listed = admin.get("/api/admin/tasks").json()
        assert (task["owner"], task["id"]) in [(t["owner"], t["id"]) for t in listed]
        answer = admin.delete(f"/api/admin/tasks/{task['owner']}/{task['id']}")
        assert answer.status_code == 200, answer.text
        wait_status(worker, task["id"], "CANCELLED")
        assert isinstance(admin.get("/api/admin/sessions").json(), list)


def test_metrics_count_tasks_by_status(stack: Stack) -> None:
    with client(stack, user_token(stack, "counted")) as user:
        task = user.post("/api/jobs/monte_carlo_pi", json={"samples": 1_000}).json()
        wait_status(user, task["id"], "SUCCESS")

    def scrape() -> str | None:
        text = httpx.get(f"{stack.url}/metrics", timeout=30).text
        found = re.search(r'^taskpool_tasks\{status="SUCCESS"\} (\d+)', text, re.MULTILINE)
        return text if found and float(found.group(1)) >= 1 else None

    text = wait_until(scrape, message="a SUCCESS task counted from the store")
    for name in (
        "taskpool_queue_depth{",
        "taskpool_workers_busy{",
        "taskpool_live_sessions ",
        'taskpool_task_duration_seconds_count{job="monte_carlo_pi"',
    ):
        assert name in text, text


def test_no_request_the_schema_allows_gets_a_server_error(api_schema: OpenApiSchema) -> None:
    """Generated requests for every operation (a few each); last in the module, as it may
    revoke tokens and fill queues."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    called: set[str] = set()
    for found in api_schema.get_all_operations():
        operation = found.ok()

        @settings(
            max_examples=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])
            called.add(case.operation.label)

        call()
    assert {"POST /api/jobs/monte_carlo_pi", "DELETE /api/tasks/{task_id}"} <= called, called
