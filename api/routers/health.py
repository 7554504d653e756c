"""``/api/health``: for load balancers; no token, 503 while the database is away."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import StateDep
from api.models import HealthOut

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", responses={503: {"model": HealthOut}})
def health(response: Response, state: StateDep) -> HealthOut:
    found = state.store.health()
    if not found.ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthOut(
        status="ok" if found.ok else "unavailable",
        database="ok" if found.ok else "unreachable",
        detail=found.problem,
        process=state.store.process.id,
    )
