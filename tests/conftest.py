"""Fixtures shared by every test package live in ``tests/support``; this only imports them.

The app's store defaults to ``data/app.db`` in the repository: the tests (and the
servers they start, which inherit the environment) get a throw-away SQLite file instead.
"""

import atexit
import os
import shutil
import tempfile

from tests.support.fixtures import browser, dask_cluster, streamlit_server_factory

_TEST_DATA = tempfile.mkdtemp(prefix="taskpool-tests-")
atexit.register(shutil.rmtree, _TEST_DATA, True)
os.environ["DATABASE_URL"] = f"sqlite:///{_TEST_DATA}/app.db"

__all__ = ["browser", "dask_cluster", "streamlit_server_factory"]
