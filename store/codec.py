"""Values to bytes and back: JSON for plain data, Parquet for data frames.

Task data and results are kept as JSON when they fit under ``limit``; a value that does
not (too big, or not JSON at all) is kept as a short summary, so one huge result never
stalls the writer or bloats the database. User state is refused instead: losing a
user's input silently would be worse than saying so.
"""

from __future__ import annotations

import base64
import io
import json
import math
from typing import Any, Literal

from store.errors import ValueTooLarge

Kind = Literal["json", "parquet"]

#: Default bound of one stored value (user state, a task's data or result).
DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024

_BYTES_TAG = "__bytes_b64__"
_SUMMARY_TAG = "__summary__"


def encode_value(value: Any, limit: int, what: str) -> tuple[Kind, bytes]:
    """A user's value as stored bytes; ``ValueTooLarge`` (naming ``what``) past ``limit``."""
    if _is_data_frame(value):
        buffer = io.BytesIO()
        value.to_parquet(buffer, index=True)
        kind: Kind = "parquet"
        raw = buffer.getvalue()
    else:
        kind = "json"
        try:
            raw = _dumps(value).encode()
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{what}: only JSON values (dict, list, str, numbers, bools, None, bytes) and "
                f"pandas data frames can be kept, not {type(value).__name__} ({exc})"
            ) from None
    if len(raw) > limit:
        raise ValueTooLarge(
            f"{what} is {_size(len(raw))}, over the {_size(limit)} the store keeps per value; "
            "keep a smaller value (or raise STORE_MAX_VALUE_BYTES)"
        )
    return kind, raw


def decode_value(kind: str, raw: bytes) -> Any:
    if kind == "parquet":
        import pandas as pd

        return pd.read_parquet(io.BytesIO(raw))
    return _loads(raw.decode())


def to_json_or_summary(value: Any, limit: int) -> str | None:
    """JSON text of a task's data or result, or of a summary saying why it was not kept."""
    if value is None:
        return None
    try:
        text = _dumps(value)
    except (TypeError, ValueError):
        return _dumps({_SUMMARY_TAG: f"a {type(value).__name__} (not kept: not JSON data)"})
    if len(text) > limit:
        return _dumps(
            {_SUMMARY_TAG: f"a {type(value).__name__} of {_size(len(text))} (not kept: too large)"}
        )
    return text


def from_json(text: str | None) -> Any:
    """The value back; a summary comes back as its one-line text."""
    if text is None:
        return None
    value = _loads(text)
    if isinstance(value, dict) and set(value) == {_SUMMARY_TAG}:
        return str(value[_SUMMARY_TAG])
    return value


def _is_data_frame(value: Any) -> bool:
    """Without importing pandas (slow) where no data frame was ever made."""
    module = type(value).__module__
    if not module.startswith("pandas"):
        return False
    import pandas as pd

    return isinstance(value, pd.DataFrame)


def _dumps(value: Any) -> str:
    return json.dumps(_tagged(value), allow_nan=False, separators=(",", ":"))


def _loads(text: str) -> Any:
    return json.loads(text, object_hook=_untagged)


def _tagged(value: Any) -> Any:
    """Bytes as tagged base64; non-finite floats as None (JSON has no NaN)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {_BYTES_TAG: base64.b64encode(bytes(value)).decode()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _tagged(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tagged(item) for item in value]
    return value


def _untagged(obj: dict[str, Any]) -> Any:
    if set(obj) == {_BYTES_TAG}:
        return base64.b64decode(obj[_BYTES_TAG])
    return obj


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB"
    if count >= 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count} bytes"
