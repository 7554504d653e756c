"""The job registry and parameter validation: every bad input gets a plain, named error."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest

import jobs
from jobs import JOBS, Job, JobParamError, Param, get_job
from taskmgr import TaskContext


def _noop(ctx: TaskContext, **params: Any) -> None:
    return None


def test_registry_offers_the_four_jobs_in_order() -> None:
    assert list(JOBS) == ["csv_profile", "monte_carlo_pi", "batch_steps", "fetch_pages"]
    assert {job.result_kind for job in JOBS.values()} == {"table", "chart"}
    for key, job in JOBS.items():
        assert job.key == key
        assert job.title and job.description and callable(job.fn)


def test_package_reexports_the_registry_names() -> None:
    from jobs import registry

    for name in ("JOBS", "Job", "JobParamError", "Param", "get_job"):
        assert getattr(jobs, name) is getattr(registry, name)


def test_get_job_of_unknown_key_lists_the_known_keys() -> None:
    with pytest.raises(KeyError) as caught:
        get_job("nope")
    message = str(caught.value)
    assert "nope" in message
    for key in JOBS:
        assert key in message


@pytest.mark.parametrize("key", list(JOBS))
def test_missing_params_take_their_defaults(key: str) -> None:
    job = get_job(key)
    assert job.validate({}) == job.defaults()
    assert job.validate({param.name: None for param in job.params}) == job.defaults()


def test_text_from_a_command_line_is_coerced() -> None:
    assert get_job("monte_carlo_pi").validate(
        {"samples": "2e6", "batch": " 5000 ", "seed": 7.0}
    ) == {
        "samples": 2_000_000,
        "batch": 5_000,
        "seed": 7,
    }
    params = get_job("batch_steps").validate({"steps": "1_000", "step_s": "0.5", "fail_at": "3"})
    assert params == {"steps": 1000, "step_s": 0.5, "fail_at": 3}
    assert isinstance(params["step_s"], float)


BAD_INPUTS = [
    ("monte_carlo_pi", {"samples": 0}, "samples", "must be at least 1, got 0"),
    ("monte_carlo_pi", {"samples": -5}, "samples", "must be at least 1, got -5"),
    ("monte_carlo_pi", {"samples": 10**10}, "samples", "must be at most 1,000,000,000"),
    ("monte_carlo_pi", {"samples": "1e400"}, "samples", "expected a whole number"),
    ("monte_carlo_pi", {"samples": "lots"}, "samples", "expected a whole number, got 'lots'"),
    ("monte_carlo_pi", {"samples": ""}, "samples", "is empty"),
    ("monte_carlo_pi", {"samples": 2.5}, "samples", "expected a whole number, got 2.5"),
    ("monte_carlo_pi", {"samples": True}, "samples", "expected a whole number, got True"),
    ("monte_carlo_pi", {"samples": [1, 2]}, "samples", "got a list"),
    ("monte_carlo_pi", {"batch": 10}, "batch", "must be at least 1,000"),
    ("monte_carlo_pi", {"seed": -1}, "seed", "must be at least 0"),
    ("batch_steps", {"steps": 10_001}, "steps", "must be at most 10,000"),
    ("batch_steps", {"step_s": 0}, "step_s", "must be at least 0.001, got 0"),
    ("batch_steps", {"step_s": -1.5}, "step_s", "must be at least 0.001"),
    ("batch_steps", {"step_s": 3600}, "step_s", "must be at most 60"),
    ("batch_steps", {"step_s": "nan"}, "step_s", "must be a finite number"),
    ("batch_steps", {"step_s": "inf"}, "step_s", "must be a finite number"),
    ("batch_steps", {"step_s": "fast"}, "step_s", "expected a number, got 'fast'"),
    ("batch_steps", {"step_s": "  "}, "step_s", "is empty"),
    ("batch_steps", {"step_s": {"s": 1}}, "step_s", "got a dict"),
    ("batch_steps", {"steps": 5, "fail_at": 6}, "fail_at", "past the last step"),
    ("batch_steps", {"fail_at": -1}, "fail_at", "must be at least 0"),
    ("batch_steps", {"bogus": 1}, "bogus", "has no such parameter"),
    ("fetch_pages", {"pages": 0}, "pages", "must be at least 1, got 0"),
    ("fetch_pages", {"concurrency": 101}, "concurrency", "must be at most 100"),
    ("fetch_pages", {"latency_s": "soon"}, "latency_s", "expected a number, got 'soon'"),
    ("fetch_pages", {"pages": 5, "fail_page": 6}, "fail_page", "past the last page"),
    ("csv_profile", {"chunk_rows": 5}, "chunk_rows", "must be at least 10"),
    ("csv_profile", {"csv_file": "a,b\n1,2\n"}, "csv_file", "got text"),
    ("csv_profile", {"csv_file": 42}, "csv_file", "expected a file, got 42"),
]


@pytest.mark.parametrize(("key", "raw", "param", "words"), BAD_INPUTS)
def test_bad_input_is_rejected_naming_the_parameter(
    key: str, raw: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(JobParamError) as caught:
        get_job(key).validate(raw)
    assert caught.value.param == param
    message = str(caught.value)
    assert message.startswith(f"{param}: ")
    assert words in message
    assert "\n" not in message


def test_unknown_parameter_message_lists_the_real_ones() -> None:
    with pytest.raises(JobParamError) as caught:
        get_job("batch_steps").validate({"step": 3})
    assert "steps, step_s, fail_at" in str(caught.value)


def test_job_param_error_is_a_value_error() -> None:
    assert issubclass(JobParamError, ValueError)
    assert JobParamError("x").param is None


def test_numbers_outside_python_ints_and_floats_are_accepted() -> None:
    import numpy as np

    params = get_job("batch_steps").validate({"steps": np.int64(4), "step_s": np.float32(0.5)})
    assert params["steps"] == 4 and type(params["steps"]) is int
    assert math.isclose(params["step_s"], 0.5) and type(params["step_s"]) is float


def _job_of(*params: Param) -> Job:
    return Job("demo", "Demo", "A job to test the other kinds.", _noop, params, "text")


def test_bool_param_accepts_words_and_rejects_others() -> None:
    job = _job_of(Param("verbose", "Verbose", "bool", False))
    assert job.validate({"verbose": "yes"}) == {"verbose": True}
    assert job.validate({"verbose": "OFF"}) == {"verbose": False}
    assert job.validate({"verbose": 1}) == {"verbose": True}
    with pytest.raises(JobParamError, match="verbose: expected true or false, got 'maybe'"):
        job.validate({"verbose": "maybe"})
    with pytest.raises(JobParamError, match="verbose: expected true or false, got 2"):
        job.validate({"verbose": 2})


def test_choice_param_must_be_one_of_its_choices() -> None:
    job = _job_of(Param("mode", "Mode", "choice", "fast", choices=("fast", "exact")))
    assert job.validate({"mode": "exact"}) == {"mode": "exact"}
    with pytest.raises(JobParamError, match="mode: must be one of fast, exact; got 'slow'"):
        job.validate({"mode": "slow"})
    with pytest.raises(JobParamError, match="mode: expected one of fast, exact"):
        job.validate({"mode": 1})


def test_str_param_length_is_bounded() -> None:
    job = _job_of(Param("name", "Name", "str", "x", minimum=1, maximum=5))
    assert job.validate({"name": "abc"}) == {"name": "abc"}
    with pytest.raises(JobParamError, match="name: must be at least 1 characters long"):
        job.validate({"name": ""})
    with pytest.raises(JobParamError, match="name: must be at most 5 characters long, got 6"):
        job.validate({"name": "abcdef"})
    with pytest.raises(JobParamError, match="name: expected text, got 5"):
        job.validate({"name": 5})


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(JobParamError) as caught:
        get_job("batch_steps").validate({"steps": "x" * 500})
    assert len(str(caught.value)) < 100


def test_file_param_takes_bytes_binary_files_and_paths(tmp_path: Any) -> None:
    job = get_job("csv_profile")
    content = b"a,b\n1,2\n"
    path = tmp_path / "small.csv"
    path.write_bytes(content)
    for value in (content, bytearray(content), memoryview(content), io.BytesIO(content), path):
        assert job.validate({"csv_file": value})["csv_file"] == content
    with path.open("rb") as handle:
        assert job.validate({"csv_file": handle})["csv_file"] == content
    with (
        path.open("r", encoding="utf-8") as handle,
        pytest.raises(JobParamError, match="opened in binary mode"),
    ):
        job.validate({"csv_file": handle})


def test_range_text_describes_the_accepted_values() -> None:
    assert get_job("monte_carlo_pi").param("samples").range_text() == "1 to 1,000,000,000"
    assert get_job("batch_steps").param("step_s").range_text() == "0.001 to 60"
    assert get_job("csv_profile").param("csv_file").range_text() == ".csv, .tsv, .txt up to 100 MB"
    with pytest.raises(KeyError, match="chunk_rows"):
        get_job("csv_profile").param("rows")
