"""``python -m api``: serve the API with uvicorn on 127.0.0.1:``API_PORT`` (behind nginx)."""

from __future__ import annotations

import os

import uvicorn

from api.main import create_app
from api.settings import ApiSettings


def main() -> None:
    settings = ApiSettings.from_env()
    uvicorn.run(
        create_app(),
        host=os.environ.get("API_HOST", "127.0.0.1"),
        port=settings.port,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level=os.environ.get("API_LOG_LEVEL", "warning"),
    )


if __name__ == "__main__":
    main()
