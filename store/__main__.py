"""``python -m store upgrade``: migrate the database ``DATABASE_URL`` names, or say why not.

Exits 0 when the database is at the newest schema; 1 with a one-line reason (the URL
with its password masked) when it is unreachable, newer than this code, or malformed.
``python -m store check`` only checks that it is reachable and not newer.
"""

from __future__ import annotations

import argparse
import sys

from store.engine import check_reachable, make_engine
from store.errors import StoreError, describe
from store.schema import check_not_newer, current_revision, upgrade
from store.url import database_url, mask_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("upgrade", "check"))
    args = parser.parse_args(argv)
    url = database_url()
    try:
        engine = make_engine(url)
        check_reachable(engine)
        if args.command == "upgrade":
            revision = upgrade(engine)
        else:
            check_not_newer(engine)
            revision = current_revision(engine) or "empty"
    except StoreError as exc:
        print(f"store: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a driver error outside the checks above
        print(f"store: database {mask_url(url)}: {describe(exc)}", file=sys.stderr)
        return 1
    engine.dispose()
    print(f"store: {mask_url(url)} is at schema revision {revision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
