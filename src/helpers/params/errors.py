"""Errors of parameter checking: each message names the file, the key, the problem and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType


class ParamsError(ValueError):
    """A parameter set is invalid; the message names the file, the key, the problem and the fix."""


class OptionError(ParamsError):
    """A command-line option (``--kommuner``, ``--jobs``) has a value that cannot be used; the
    message names the option and the values it accepts."""



def field_error(kind: str, message: str, key: str | None = None) -> PydanticCustomError:
    """A validation error whose text is shown as is (no "Value error, " prefix, no templating);
    ``key`` names the parameter when the error is raised by a model-level validator."""
    return PydanticCustomError(kind, "{message}", {"message": message, "key": key})


_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


def describe_validation_errors(errors: Iterable[Any], path: str | Path,
              overridden: Mapping[str, str] | Iterable[str] = ()) -> str:
    """One line per error: the key (and the option it came from), the problem, the fix.

    Our own messages (``field_error``, or a ``ValueError`` raised by a validator) already name the
    value given and are shown as written; pydantic's wording gets the value and a fix added.
    """
    origins = (dict(overridden) if isinstance(overridden, Mapping)
               else {key: f"--{key}" for key in overridden})
    lines = [f"{path}: invalid parameters:"]
    for error in errors:
        ctx = error.get("ctx") or {}
        key = ".".join(str(p) for p in error["loc"]) or ctx.get("key")
        label = (f"key {key!r}" + (f" (from {origins[key]})" if key in origins else "")
                 if key else "parameters")
        if "message" in ctx:
            message = str(ctx["message"])
        elif error["type"] not in _PYDANTIC_ERROR_TYPES:  # a model's own PydanticCustomError
            message = error["msg"]
        elif error["type"] == "value_error" and "error" in ctx:
            message = str(ctx["error"])
            if "Fix" not in message:
                message += ". Fix: correct this value in the file"
        elif error["type"] == "missing":
            message = f"is required. Fix: add `{key}: <value>` to the file"
        else:
            message = (f"{error['msg']} (got {error['input']!r}). "
                       "Fix: correct this value in the file")
        lines.append(f"  - {label}: {message}")
    return "\n".join(lines)
