"""The sample CSV bundled for ``csv_profile``: made deterministically, so it can be remade.

Regenerate it with ``python -c "import jobs.sample_csv as s; s.write_sample()"``; a test
checks that the committed file matches.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

SAMPLE_CSV = Path(__file__).parent / "sample_data" / "orders.csv"
SAMPLE_ROWS = 4_000
_SEED = 20_240_601

_COLUMNS = (
    "order_id",
    "order_date",
    "region",
    "product",
    "quantity",
    "unit_price",
    "discount",
    "paid",
    "note",
)
_REGIONS = ("North", "South", "East", "West")
_PRODUCTS = (
    ("notebook", 3.5),
    ("pen", 1.2),
    ("backpack", 39.0),
    ("stapler", 8.75),
    ("desk lamp", 24.9),
    ("monitor", 189.0),
    ("keyboard", 45.5),
    ("chair", 129.0),
)
_NOTES = ("gift wrap", "leave at door", "call before delivery, please", "fragile")


def sample_csv_text(rows: int = SAMPLE_ROWS) -> str:
    """Orders of a small shop: numbers, dates, categories, booleans and some blanks."""
    rng = random.Random(_SEED)
    start = dt.date(2024, 1, 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS)
    for order_id in range(1, rows + 1):
        product, base_price = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
        day = start + dt.timedelta(days=rng.randrange(366))
        discount = "" if rng.random() < 0.1 else f"{rng.randrange(0, 31) / 100:.2f}"
        note = _NOTES[rng.randrange(len(_NOTES))] if rng.random() < 0.15 else ""
        writer.writerow(
            [
                order_id,
                day.isoformat(),
                _REGIONS[rng.randrange(len(_REGIONS))],
                product,
                1 + rng.randrange(20),
                f"{base_price * (0.9 + rng.random() * 0.2):.2f}",
                discount,
                "true" if rng.random() < 0.8 else "false",
                note,
            ]
        )
    return out.getvalue()


def write_sample(path: Path = SAMPLE_CSV) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sample_csv_text(), encoding="utf-8")
