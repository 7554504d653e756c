"""Request models derived from the job registry: one source of truth for the Streamlit
forms, the CLI and the API. File parameters come as multipart uploads, never JSON."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from starlette.datastructures import UploadFile

from jobs import Job, JobParamError, Param

_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool}


def request_model(job: Job) -> type[BaseModel]:
    """A pydantic model of the job's JSON parameters (its file parameters left out)."""
    fields: dict[str, Any] = {}
    for param in job.params:
        if param.kind == "file":
            continue
        fields[param.name] = (_annotation(param), _field(param))
    model: type[BaseModel] = create_model(
        f"{_camel(job.key)}Params",
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
        **fields,
    )
    return model


def _annotation(param: Param) -> Any:
    if param.kind == "choice":
        return Literal[param.choices] | None
    return _TYPES[param.kind] | None


def _field(param: Param) -> Any:
    limits: dict[str, Any] = {}
    if param.kind in ("int", "float"):
        limits = {"ge": param.minimum, "le": param.maximum}
    elif param.kind == "str":
        limits = {
            "min_length": None if param.minimum is None else int(param.minimum),
            "max_length": None if param.maximum is None else int(param.maximum),
        }
    return Field(
        default=param.default,
        title=param.label,
        description=" ".join(part for part in (param.help, param.range_text()) if part),
        **{name: value for name, value in limits.items() if value is not None},
    )


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def openapi_body(job: Job, model: type[BaseModel]) -> dict[str, Any]:
    """The request body as OpenAPI shows it: JSON, or multipart when the job takes a file."""
    json_schema = model.model_json_schema()
    content: dict[str, Any] = {"application/json": {"schema": json_schema}}
    files = [param for param in job.params if param.kind == "file"]
    if files:
        properties = dict(json_schema.get("properties", {}))
        for param in files:
            properties[param.name] = {
                "type": "string",
                "format": "binary",
                "description": f"{param.help} {param.range_text()}".strip(),
            }
        content["multipart/form-data"] = {"schema": {"type": "object", "properties": properties}}
    return {"requestBody": {"required": False, "content": content}}


def unprocessable(name: str, message: str) -> HTTPException:
    """422 whose detail names the field, as FastAPI's own validation errors do."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body", name], "msg": message, "type": "value_error"}],
    )


async def read_params(request: Request, job: Job, model: type[BaseModel]) -> dict[str, Any]:
    """The job's validated arguments from a JSON or multipart body; 422 naming the field.

    Any body that is not multipart is read as JSON, whatever its content type says, so
    ``curl -d '{"samples": 5}'`` works without a header."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        raw = await _form_values(request, job)
    else:
        raw = await _json_values(request, job, model)
    try:
        return job.validate(raw)
    except JobParamError as exc:
        raise unprocessable(exc.param or "body", str(exc)) from None


async def _json_values(request: Request, job: Job, model: type[BaseModel]) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise unprocessable("body", "body: not valid JSON") from None
    if not isinstance(data, dict):
        raise unprocessable("body", "body: expected a JSON object of parameters")
    for param in job.params:
        if param.kind == "file" and param.name in data:
            raise unprocessable(param.name, f"{param.name}: a file; send it as multipart/form-data")
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _named_errors(exc)) from None
    return {name: value for name, value in parsed.model_dump().items() if name in data}


def _named_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        errors.append(
            {
                "loc": ["body", *error["loc"]],
                "msg": f"{name}: {error['msg']}",
                "type": error["type"],
            }
        )
    return errors


async def _form_values(request: Request, job: Job) -> dict[str, Any]:
    limits = {param.name: param.maximum or 0.0 for param in job.params if param.kind == "file"}
    form = await request.form(max_part_size=int(max(limits.values(), default=1e6)) + 1)
    values: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            values[name] = await value.read()
        elif name in limits:
            raise unprocessable(name, f"{name}: expected a file upload, got a text field")
        else:
            values[name] = value
    return values
