"""Fixtures shared by every test package live in ``tests/support``; this only imports them."""

from tests.support.fixtures import browser, dask_cluster, streamlit_server_factory

__all__ = ["browser", "dask_cluster", "streamlit_server_factory"]
