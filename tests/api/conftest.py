"""One stack (./main.sh: nginx, Streamlit, the API) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(env={"TASKMGR_MAX_WORKERS": "2", "TASKMGR_MAX_QUEUED_PER_OWNER": "2"})
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def api_schema(stack: Stack) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{stack.url}/openapi.json")
