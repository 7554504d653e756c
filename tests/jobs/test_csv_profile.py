"""csv_profile: checks at validate time, the profile it builds, and what it publishes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from jobs import JobParamError, get_job
from jobs.csv_profile import SNIFF_BYTES, detect_delimiter
from jobs.csv_stats import DistinctSketch
from jobs.sample_csv import SAMPLE_CSV, SAMPLE_ROWS, sample_csv_text
from taskmgr import AsyncTaskManager, TaskStatus
from tests.jobs.conftest import Recorder, run_job


def _validate_file(content: Any) -> dict[str, Any]:
    return get_job("csv_profile").validate({"csv_file": content})


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


BAD_FILES = [
    (b"", "the file is empty"),
    (b"  \n\n \t\n", "contains only blank space"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "contains binary data"),
    (b"PK\x03\x04\x14\x00\x06\x00", "contains binary data"),
    ("name,city\nJosé,Málaga\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9"),
    (b"a,b,c\n", "has a header but no data rows"),
    (b"a,b\n1,2\n3,4,5\n", "line 3 has 3 fields but the header has 2"),
    (b'a,b\n1,"unterminated\n', "is malformed at line"),
    (b'a,b\n"x"y,2\n', "is malformed at line 2"),
    (b",,\n1,2,3\n", "the header) has no column names"),
]


@pytest.mark.parametrize(("content", "words"), BAD_FILES)
def test_unusable_file_is_rejected_at_validate_time(content: bytes, words: str) -> None:
    with pytest.raises(JobParamError) as caught:
        _validate_file(content)
    assert caught.value.param == "csv_file"
    assert str(caught.value).startswith("csv_file: ")
    assert words in str(caught.value)


def test_oversized_file_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(100_000_001)  # sparse: no disk space or memory used
    with pytest.raises(JobParamError, match="csv_file: the file is 100 MB; the limit is 100 MB"):
        _validate_file(path)


def test_missing_path_and_folder_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(JobParamError, match="csv_file: no such file"):
        _validate_file(tmp_path / "absent.csv")
    with pytest.raises(JobParamError, match="is a folder"):
        _validate_file(tmp_path)


def test_long_file_with_a_cut_last_line_in_the_sample_passes() -> None:
    line = b'1,"quoted, with comma",3.5\n'
    content = b"a,b,c\n" + line * (2 * SNIFF_BYTES // len(line))
    assert _validate_file(content)["csv_file"] == content


def test_delimiter_is_detected_from_the_header() -> None:
    assert detect_delimiter("a;b;c\n1;2;3\n") == ";"
    assert detect_delimiter("a\tb\n") == "\t"
    assert detect_delimiter("a|b|c\n") == "|"
    assert detect_delimiter('"x, y";b\n') == ";"
    assert detect_delimiter("only\n1\n") == ","


def test_bundled_sample_is_what_its_generator_makes() -> None:
    assert SAMPLE_CSV.read_text(encoding="utf-8") == sample_csv_text()


def test_profile_of_the_bundled_sample(manager: AsyncTaskManager) -> None:
    final = run_job(manager, "csv_profile", {"chunk_rows": 500})
    assert final.status is TaskStatus.SUCCESS, final.error
    profile = _by_name(final.result)
    assert list(profile) == [
        "order_id",
        "order_date",
        "region",
        "product",
        "quantity",
        "unit_price",
        "discount",
        "paid",
        "note",
    ]
    order_id = profile["order_id"]
    assert (order_id["dtype"], order_id["count"], order_id["nulls"]) == ("int", SAMPLE_ROWS, 0)
    assert (order_id["min"], order_id["max"], order_id["mean"]) == ("1", "4000", 2000.5)
    assert abs(order_id["distinct"] - SAMPLE_ROWS) < 0.05 * SAMPLE_ROWS  # an estimate
    assert profile["region"]["distinct"] == 4  # exact below the sketch size
    assert profile["region"]["mean"] is None
    assert profile["quantity"]["dtype"] == "int"
    assert (profile["quantity"]["min"], profile["quantity"]["max"]) == ("1", "20")
    assert profile["unit_price"]["dtype"] == "float"
    assert profile["paid"]["dtype"] == "bool"
    assert profile["order_date"]["dtype"] == "text"
    assert (profile["order_date"]["min"], profile["order_date"]["max"]) == (
        "2024-01-01",
        "2024-12-31",
    )
    discount = profile["discount"]
    assert discount["nulls"] > 0
    assert discount["count"] + discount["nulls"] == SAMPLE_ROWS
    assert 0.0 <= discount["mean"] <= 0.3
    assert profile["note"]["nulls"] > profile["note"]["count"]


def test_profile_is_published_after_each_chunk(
    manager: AsyncTaskManager, recorder: Recorder
) -> None:
    final = run_job(manager, "csv_profile", {"chunk_rows": 400})
    assert final.status is TaskStatus.SUCCESS
    partials = recorder.partials("csv_profile")
    assert len(partials) >= SAMPLE_ROWS // 400 - 1
    counts = [_by_name(snap.data)["order_id"]["count"] for snap in partials]
    assert counts == sorted(counts) and counts[0] == 400
    progress = [snap.progress for snap in partials]
    assert progress == sorted(progress) and all(p is not None and 0 < p <= 1 for p in progress)
    assert final.data == final.result
    for snap in partials:
        assert json.loads(json.dumps(snap.data, allow_nan=False)) == snap.data
        assert pickle.loads(pickle.dumps(snap.data)) == snap.data


def test_types_are_judged_over_every_chunk(manager: AsyncTaskManager) -> None:
    lines = ["id;value;flag;label"]
    lines += [f"{i};{i * 1.5};{'true' if i % 2 else 'FALSE'};x{i}" for i in range(20)]
    lines += [f"{20 + i};unknown;true;" for i in range(10)]  # value turns to text late
    content = ("\n".join(lines) + "\n").encode()
    final = run_job(manager, "csv_profile", {"csv_file": content, "chunk_rows": 10})
    assert final.status is TaskStatus.SUCCESS, final.error
    profile = _by_name(final.result)
    assert profile["id"]["dtype"] == "int" and profile["id"]["mean"] == 14.5
    assert profile["value"]["dtype"] == "text" and profile["value"]["mean"] is None
    assert (profile["value"]["min"], profile["value"]["max"]) == ("0.0", "unknown")
    assert profile["flag"]["dtype"] == "bool"
    assert (profile["label"]["count"], profile["label"]["nulls"]) == (20, 10)


def test_malformed_line_past_the_sniffed_start_fails_the_task_clearly(
    manager: AsyncTaskManager,
) -> None:
    good = b"a,b\n" + b"1,2\n" * (SNIFF_BYTES // 4 + 100)
    content = good + b"3,4,5\n"
    final = run_job(manager, "csv_profile", {"csv_file": content, "chunk_rows": 100})
    assert final.status is TaskStatus.ERROR
    message = str(final.error)
    assert "could not be read after row" in message
    assert "Expected 2 fields" in message


def test_invalid_utf8_past_the_sniffed_start_fails_the_task_clearly(
    manager: AsyncTaskManager,
) -> None:
    content = b"a,b\n" + b"1,2\n" * (SNIFF_BYTES // 4 + 100) + b"\xff\xfe,3\n"
    final = run_job(manager, "csv_profile", {"csv_file": content, "chunk_rows": 100})
    assert final.status is TaskStatus.ERROR
    assert "could not be read after row" in str(final.error)
    assert "not UTF-8 text (byte 0xff)" in str(final.error)


def test_distinct_sketch_is_exact_when_small_and_close_when_large() -> None:
    import numpy as np

    small = DistinctSketch(256)
    small.add(np.array([5, 5, 7, 9], dtype=np.uint64))
    small.add(np.array([7, 11], dtype=np.uint64))
    assert small.estimate() == 4
    large = DistinctSketch(2048)
    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 2**64, size=100_000, dtype=np.uint64)
    for chunk in np.array_split(np.concatenate([hashes, hashes[:5000]]), 20):
        large.add(chunk)
    assert abs(large.estimate() - 100_000) < 5_000
