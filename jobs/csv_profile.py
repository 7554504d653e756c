"""Profile a CSV chunk by chunk: per column its type, counts, range, mean and distinct values.

Every cell is read as text and typed here, so a column's type is the same whichever chunk
it is judged from, and min/max keep the file's own spelling of the values.
"""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

from jobs.sample_csv import SAMPLE_CSV
from jobs.spec import Job, Param
from taskmgr import TaskContext

#: How much of the file ``sniff_csv`` reads when the job's parameters are checked.
SNIFF_BYTES = 4096
#: The largest file accepted (the whole file is held in memory).
MAX_FILE_BYTES = 100_000_000

_DELIMITERS = (",", ";", "\t", "|")
_CONTROL = frozenset(chr(code) for code in range(32)) - {"\t", "\n", "\r", "\f"}


class CsvFormatError(ValueError):
    """The bytes are not a CSV this job can read; the message says where and why."""


def sniff_csv(data: bytes) -> None:
    """Reject, from the first few KB, what is plainly not a usable CSV (a Param check)."""
    head = data[:SNIFF_BYTES]
    whole = len(data) <= SNIFF_BYTES
    if b"\x00" in head:
        raise CsvFormatError("does not look like a CSV: it contains binary data")
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=whole)
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"is not UTF-8 text (byte 0x{head[exc.start]:02x} at position {exc.start}); "
            "save the CSV as UTF-8"
        ) from None
    if any(char in _CONTROL for char in text):
        raise CsvFormatError("does not look like a CSV: it contains binary data")
    if not text.strip():
        raise CsvFormatError("contains only blank space, no CSV data")
    if not whole:
        if "\n" not in text:
            return  # a header longer than the sample: pandas will judge the rest
        text = text[: text.rindex("\n") + 1]  # the last line may be cut short
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    data_rows = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                if header is None and row:
                    raise CsvFormatError("the first line (the header) has no column names")
                continue
            if header is None:
                header = row
            elif len(row) > len(header):
                raise CsvFormatError(
                    f"is malformed: line {reader.line_num} has {len(row)} fields "
                    f"but the header has {len(header)}"
                )
            else:
                data_rows += 1
    except csv.Error as exc:
        if whole or reader.line_num < text.count("\n"):
            raise CsvFormatError(f"is malformed at line {reader.line_num}: {exc}") from None
    if whole and data_rows == 0:
        raise CsvFormatError("has a header but no data rows")


def detect_delimiter(text: str) -> str:
    """The candidate that splits the first line into the most fields (comma on a tie)."""
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    best, best_fields = ",", 1
    for delimiter in _DELIMITERS:
        fields = len(next(csv.reader([first_line], delimiter=delimiter), []))
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


def profile_csv(
    ctx: TaskContext, *, csv_file: bytes | None, chunk_rows: int, pause_s: float = 0.0
) -> list[dict[str, Any]]:
    """Read ``chunk_rows`` rows at a time and publish the profile so far after each chunk,
    then wait ``pause_s`` (so that a small file's progress can be watched)."""
    # Imported here, not at the top, so that importing the job registry stays fast.
    import pandas as pd

    from jobs.csv_stats import ColumnProfile

    data = csv_file if csv_file is not None else SAMPLE_CSV.read_bytes()
    head = data[:SNIFF_BYTES].decode("utf-8-sig", errors="replace")
    expected_rows = max(1, data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1))
    columns: dict[str, ColumnProfile] = {}
    rows = 0
    try:
        chunks = pd.read_csv(
            io.BytesIO(data),
            sep=detect_delimiter(head),
            dtype=str,
            chunksize=chunk_rows,
            index_col=False,
            encoding="utf-8-sig",
        )
        for chunk in chunks:
            ctx.check()
            for name in chunk.columns:
                columns.setdefault(str(name), ColumnProfile(str(name))).add(chunk[name])
            rows += len(chunk)
            ctx.report(
                progress=min(rows / expected_rows, 0.99),
                message=f"{rows:,} rows profiled",
                data=[column.row() for column in columns.values()],
            )
            if pause_s:
                ctx.sleep(pause_s)
    except UnicodeDecodeError as exc:
        # Raised afresh: the original holds the whole file, and would end up in logs.
        raise CsvFormatError(
            f"the CSV could not be read after row {rows:,}: it is not UTF-8 text "
            f"(byte 0x{exc.object[exc.start]:02x}); save the CSV as UTF-8"
        ) from None
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
        raise CsvFormatError(f"the CSV could not be read after row {rows:,}: {reason}") from None
    if rows == 0:
        raise CsvFormatError("the CSV has a header but no data rows")
    profile = [column.row() for column in columns.values()]
    ctx.report(progress=1.0, message=f"{rows:,} rows profiled", data=profile)
    return profile


JOB = Job(
    key="csv_profile",
    title="Profile a CSV file",
    description=(
        "Reads a CSV in chunks and builds a per-column profile: inferred type, values, "
        "blanks, min and max, mean of numbers and an estimate of distinct values. The "
        "table fills in as chunks are read. Without a file, a bundled sample of shop "
        "orders is profiled."
    ),
    fn=profile_csv,
    params=(
        Param(
            "csv_file",
            "CSV file",
            "file",
            None,
            maximum=MAX_FILE_BYTES,
            choices=("csv", "tsv", "txt"),
            help="A UTF-8 CSV with a header line; leave empty to profile the bundled sample.",
            check=sniff_csv,
        ),
        Param(
            "chunk_rows",
            "Rows per chunk",
            "int",
            100,
            minimum=10,
            maximum=100_000,
            help="Rows read at a time; the profile is updated after each chunk.",
        ),
        Param(
            "pause_s",
            "Pause per chunk (seconds)",
            "float",
            0.5,
            minimum=0,
            maximum=60,
            help="A wait after each chunk, so that the profile can be watched filling in "
            "(the bundled sample then takes about 20 s); 0 reads at full speed.",
        ),
    ),
    result_kind="table",
)
