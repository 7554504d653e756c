"""The jobs as a REST API (FastAPI), in a process of its own behind nginx at ``/api``.

``create_app()`` builds the app; ``python -m api`` serves it with uvicorn on
127.0.0.1:``API_PORT``. See docs/api.md.
"""

from api.main import create_app

__all__ = ["create_app"]
