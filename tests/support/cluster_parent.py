"""A process that starts a local Dask cluster as a server's manager does, says so in a
file, and waits: ``tests/taskmgr/test_dask_tether.py`` kills it with ``kill -9``.

Run: ``python -m tests.support.cluster_parent READY_FILE``.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from taskmgr.runners.dask import DaskRunner


def main(ready_file: Path) -> None:
    runner = DaskRunner(2, n_workers=1)  # returns once its worker has joined
    ready_file.write_text(runner.scheduler_address)
    threading.Event().wait()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
