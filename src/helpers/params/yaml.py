"""Reading a parameter file: YAML read as written (the YAML 1.2 core schema).

The octal trap: YAML 1.1 (PyYAML) reads an unquoted ``kommun: 0114`` as the octal number 76.
:func:`read_yaml` uses :class:`ParamsLoader`, which reads every scalar as written: only a plain
decimal is an integer, so ``0114`` stays ``"0114"`` and ``114`` is read as 114 (the kommun field
pads it to ``"0114"``). A plain integer is never re-read as octal.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from helpers.params.errors import ParamsError

MAX_PARAMS_BYTES = 1_000_000
"""A parameter file is a few lines; anything bigger is not one (and is not parsed)."""

_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_BOOLEAN = re.compile(r"^(true|false)$", re.IGNORECASE)


class ParamsLoader(yaml.SafeLoader):
    """A SafeLoader that reads scalars as they are written (the YAML 1.2 core schema).

    PyYAML follows YAML 1.1, where an unquoted ``0114`` is the octal number 76, ``1:54`` the
    base-60 number 114, ``0x72`` hex and ``no``/``yes``/``on``/``off`` booleans. Here only a
    plain decimal (``114``, ``2022``, ``6_000``) is an integer and only ``true``/``false`` are
    booleans; every other such scalar stays the text it was written as (``"0114"``, ``"NO"``),
    so a kommun code keeps its leading zero and nothing is silently re-read. A key given twice in
    one mapping is an error (PyYAML would keep the last one without a word), and so is an alias
    (``*name``: a few lines of aliases can expand to billions of values).
    """


def _compose_node_without_aliases(loader: ParamsLoader, parent: Any, index: Any) -> Any:
    if loader.check_event(yaml.AliasEvent):
        event = loader.peek_event()
        raise yaml.composer.ComposerError(
            None, None, f"the alias *{event.anchor} repeats another value; parameter files "
            "write every value out (no anchors & and aliases *)", event.start_mark)
    return yaml.SafeLoader.compose_node(loader, parent, index)


ParamsLoader.compose_node = _compose_node_without_aliases  # type: ignore[method-assign]


def _construct_int_as_written(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if _DECIMAL_INT.match(text):
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    return text


def _construct_bool_as_written(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if _BOOLEAN.match(text):
        return yaml.SafeLoader.construct_yaml_bool(loader, node)
    return text


def _construct_mapping_without_duplicates(loader: yaml.SafeLoader,
                                          node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: let construct_mapping report it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice (first on line "
                f"{first.start_mark.line + 1})", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=True)


ParamsLoader.add_constructor("tag:yaml.org,2002:int", _construct_int_as_written)
ParamsLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool_as_written)
ParamsLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping_without_duplicates)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a parameter file into a dict, scalars as written (``0114`` stays ``"0114"``).

    Every problem with the file itself (missing, a folder, unreadable, not UTF-8 text, empty,
    not valid YAML with line and column, not a mapping) is a :class:`ParamsError`.
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise ParamsError(f"{path}: the parameter file is empty. Fix: write one `key: value` "
                          "per line, starting with `report: <name>` (see params/*.yaml).")
    try:
        data = yaml.load(text, Loader=ParamsLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise ParamsError(_describe_yaml_error(path, exc)) from None
    if data is None:
        raise ParamsError(f"{path}: the parameter file holds only comments. Fix: add "
                          "`report: <name>` and the report's keys (see params/*.yaml).")
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a single text"}.get(type(data), type(data).__name__)
        raise ParamsError(
            f"{path}: expected a mapping of keys to values, got {kind}. "
            "Fix: write one `key: value` per line, starting with `report: <name>`.")
    return data


def _read_text(path: Path) -> str:
    try:
        if path.is_dir():
            raise ParamsError(f"{path}: is a folder, not a parameter file. Fix: give a .yaml "
                              "file, e.g. params/valfard.yaml.")
        size = path.stat().st_size
        if size > MAX_PARAMS_BYTES:
            raise ParamsError(f"{path}: {size} bytes is far too big for a parameter file "
                              f"(at most {MAX_PARAMS_BYTES}). Fix: check the path.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such parameter file. Fix: check the path.") from None
    except PermissionError:
        raise ParamsError(f"{path}: the parameter file cannot be read (permission denied). "
                          "Fix: check the file's permissions.") from None
    except OSError as exc:
        raise ParamsError(f"{path}: the parameter file cannot be read ({exc.strerror or exc})."
                          " Fix: check the path.") from None
    if b"\x00" in data:
        raise ParamsError(f"{path}: not a text file (it holds NUL bytes). Fix: give a YAML "
                          "parameter file, e.g. params/valfard.yaml.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ParamsError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line "
                          f"{line} cannot be read). Fix: save the file as UTF-8 text (most "
                          "editors offer it under 'Save as… / Encoding').") from None


_YAML_FIXES = (
    ("twice", "Fix: give each key once."),
    ("alias", "Fix: write the value out where the alias stands."),
    ("could not determine a constructor", "Fix: remove the '!' tag; parameter files hold plain "
                                          "values only."),
    ("quoted scalar", "Fix: close the quote."),
    ("flow sequence", "Fix: close the list with ']' (items separated by ',')."),
    ("flow mapping", "Fix: close the mapping with '}' (entries separated by ',')."),
    ("'\\t'", "Fix: indent with spaces, not tabs."),
)


def _describe_yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """``<file>, line L, column C: not valid YAML (problem; where it started). Fix: …``"""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{context}: {problem}" if context and "twice" not in problem else problem
    started = getattr(exc, "context_mark", None)
    if started is not None and mark is not None and started.line != mark.line:
        what += f"; it started on line {started.line + 1}, column {started.column + 1}"
    fix = next((text for key, text in _YAML_FIXES if key in what),
               "Fix: quote values that contain ':', '#', '[' or '{', indent with spaces, and "
               "write one `key: value` per line.")
    return f"{path}{where}: not valid YAML ({what}). {fix}"
