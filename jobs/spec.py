"""What a job is: its parameters, how raw input becomes valid arguments, and the errors."""

from __future__ import annotations

import math
import numbers
import operator
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ParamKind = Literal["int", "float", "str", "choice", "file", "bool"]
ResultKind = Literal["table", "chart", "text"]

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class JobParamError(ValueError):
    """A parameter cannot be used; the message names it and says what is wrong."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Param:
    """One input of a job, with enough metadata to draw a widget or a CLI option.

    For ``kind="file"`` the value is the file's bytes (or None where the default is None),
    ``maximum`` is the largest size in bytes and ``choices`` lists the expected extensions.
    For ``kind="str"``, ``minimum``/``maximum`` bound the length.
    ``check``, when set, gets the coerced value and raises ``ValueError`` with a plain
    message if the content is unusable (for example a malformed CSV).
    """

    name: str
    label: str
    kind: ParamKind
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    check: Callable[[Any], None] | None = field(default=None, compare=False, repr=False)

    def range_text(self) -> str:
        """The accepted values in a few words, e.g. ``1 to 10,000`` or ``up to 100 MB``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "file":
            limit = f"up to {format_size(self.maximum)}" if self.maximum is not None else ""
            kinds = ", ".join(f".{ext}" for ext in self.choices)
            return " ".join(part for part in (kinds, limit) if part)
        low, high = self.minimum, self.maximum
        unit = " characters" if self.kind == "str" else ""
        if low is not None and high is not None:
            return f"{format_number(low)} to {format_number(high)}{unit}"
        if low is not None:
            return f"at least {format_number(low)}{unit}"
        if high is not None:
            return f"at most {format_number(high)}{unit}"
        return ""

    def coerce(self, value: Any) -> Any:
        """The value as this parameter's type, checked; ``JobParamError`` if it is unusable."""
        try:
            coerced = _COERCERS[self.kind](self, value)
            if self.check is not None and coerced is not None:
                self.check(coerced)
        except JobParamError:
            raise
        except ValueError as exc:
            raise JobParamError(f"{self.name}: {exc}", self.name) from None
        return coerced


@dataclass(frozen=True)
class Job:
    """A long-running function ``fn(ctx, **params)`` offered to users, with its inputs.

    ``check``, when set, gets the validated parameters and raises ``JobParamError`` for
    combinations that are invalid although each value is fine on its own.
    """

    key: str
    title: str
    description: str
    fn: Callable[..., Any]
    params: tuple[Param, ...]
    result_kind: ResultKind
    check: Callable[[Mapping[str, Any]], None] | None = field(
        default=None, compare=False, repr=False
    )

    def param(self, name: str) -> Param:
        """The parameter called ``name``; ``KeyError`` naming the known ones otherwise."""
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(f"job {self.key!r} has no parameter {name!r}; it has {self._names()}")

    def defaults(self) -> dict[str, Any]:
        return {param.name: param.default for param in self.params}

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Coerce and check every parameter; a missing (or None) one takes its default."""
        known = {param.name for param in self.params}
        for name in raw:
            if name not in known:
                raise JobParamError(
                    f"{name}: job {self.key!r} has no such parameter; it has {self._names()}",
                    str(name),
                )
        values: dict[str, Any] = {}
        for param in self.params:
            value = raw.get(param.name)
            values[param.name] = param.default if value is None else param.coerce(value)
        if self.check is not None:
            self.check(values)
        return values

    def _names(self) -> str:
        return ", ".join(param.name for param in self.params) or "none"


def format_number(value: float) -> str:
    """``1000000`` as ``1,000,000``; a fraction as short as it can be."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}"


def format_size(size: float | None) -> str:
    if size is None:
        return "unknown size"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{int(size)} bytes"


def _describe(value: Any) -> str:
    """A short, safe description of a bad value for an error message."""
    if isinstance(value, (str, bool, int, float)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return f"a {type(value).__name__}"


def _check_range(param: Param, value: float) -> None:
    if param.minimum is not None and value < param.minimum:
        raise ValueError(
            f"must be at least {format_number(param.minimum)}, got {format_number(value)}"
        )
    if param.maximum is not None and value > param.maximum:
        raise ValueError(
            f"must be at most {format_number(param.maximum)}, got {format_number(value)}"
        )


def _coerce_int(param: Param, value: Any) -> int:
    number: int | None = None
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("is empty; expected a whole number")
        try:
            number = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"expected a whole number, got {_describe(value)}") from None
    if number is None:
        if hasattr(value, "__index__"):
            number = operator.index(value)
        elif isinstance(value, numbers.Real) and float(value).is_integer():
            number = int(float(value))
        else:
            raise ValueError(f"expected a whole number, got {_describe(value)}")
    _check_range(param, number)
    return number


def _coerce_float(param: Param, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("is empty; expected a number")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {_describe(value)}") from None
    elif isinstance(value, numbers.Real):
        number = float(value)
    else:
        raise ValueError(f"expected a number, got {_describe(value)}")
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {value!r}")
    _check_range(param, number)
    return number


def _coerce_bool(param: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expected true or false, got {_describe(value)}")


def _coerce_str(param: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_describe(value)}")
    if param.minimum is not None and len(value) < param.minimum:
        raise ValueError(f"must be at least {format_number(param.minimum)} characters long")
    if param.maximum is not None and len(value) > param.maximum:
        raise ValueError(
            f"must be at most {format_number(param.maximum)} characters long, got {len(value):,}"
        )
    return value


def _coerce_choice(param: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected one of {', '.join(param.choices)}; got {_describe(value)}")
    if value not in param.choices:
        raise ValueError(f"must be one of {', '.join(param.choices)}; got {value!r}")
    return value


def _coerce_file(param: Param, value: Any) -> bytes:
    """Bytes, a binary file object (as Streamlit's uploader gives) or a path become bytes."""
    if isinstance(value, os.PathLike):
        content = _read_path(param, Path(value))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        content = bytes(value)
    elif isinstance(value, str):
        raise ValueError("expected the file's contents as bytes, got text")
    elif callable(getattr(value, "getvalue", None)):
        content = value.getvalue()
    elif callable(getattr(value, "read", None)):
        content = value.read()
    else:
        raise ValueError(f"expected a file, got {_describe(value)}")
    if not isinstance(content, bytes):
        raise ValueError(f"expected a file opened in binary mode, got {type(content).__name__}")
    _check_size(param, len(content))
    return content


def _read_path(param: Param, path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ValueError(f"{str(path)!r} is a folder, not a file")
        _check_size(param, size)
        return path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"no such file: {str(path)!r}") from None
    except PermissionError:
        raise ValueError(f"cannot read {str(path)!r}: permission denied") from None


def _check_size(param: Param, size: int) -> None:
    if size == 0:
        raise ValueError("the file is empty")
    if param.maximum is not None and size > param.maximum:
        raise ValueError(
            f"the file is {format_size(size)}; the limit is {format_size(param.maximum)}"
        )


_COERCERS: dict[str, Callable[[Param, Any], Any]] = {
    "int": _coerce_int,
    "float": _coerce_float,
    "bool": _coerce_bool,
    "str": _coerce_str,
    "choice": _coerce_choice,
    "file": _coerce_file,
}
