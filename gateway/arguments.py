"""Tool-argument validation against the tool's input schema (JSON Schema Draft 2020-12).

The SDK 2.x does not validate arguments, so the gateway does, before anything is forwarded. A
violation becomes a message that says what was wrong and what is allowed, so a model can correct
its next call without reading the schema again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

__all__ = ["ArgumentValidator", "InvalidSchema", "fast_check"]

_MAX_ERRORS = 5
_MESSAGE_BYTES = 1800  # over this, only the arguments at fault keep their descriptions (errors stay under 2 KB)
#: keywords that only annotate: they never make an instance invalid
_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment", "deprecated", "readOnly",
                          "writeOnly"})
Check = Callable[[Any], bool]


class InvalidSchema(ValueError):
    """A provider published a schema that is not valid JSON Schema 2020-12."""


def _path(error: ValidationError) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path]
    return "arguments" + "".join(parts)


def _type_of(prop: Mapping[str, Any]) -> str:
    if "enum" in prop:
        return "one of " + ", ".join(repr(v) for v in prop["enum"])
    if "const" in prop:
        return f"exactly {prop['const']!r}"
    t = prop.get("type")
    if isinstance(t, list):
        label = " or ".join(str(x) for x in t)
    elif isinstance(t, str):
        label = t
    elif "anyOf" in prop or "oneOf" in prop:
        alts = prop.get("anyOf") or prop.get("oneOf") or []
        label = " or ".join(_type_of(a) for a in alts if isinstance(a, Mapping)) or "any"
    else:
        label = "any"
    if "pattern" in prop:
        label += f" matching {prop['pattern']}"
    if t == "array" and isinstance(prop.get("items"), Mapping):
        label += f" of {_type_of(prop['items'])}"
    return label


def describe_schema(schema: Mapping[str, Any], explain: Collection[str] | None = None, *, brief: bool = False) -> str:
    """The allowed properties, one line each: name, type, required or optional, and the description
    when ``explain`` is None or names it; ``brief``: the names only, on one line."""
    props = schema.get("properties")
    if not isinstance(props, Mapping) or not props:
        return "Allowed: no arguments." if schema.get("additionalProperties") is False else ""
    closed = schema.get("additionalProperties") is False
    head = "Allowed arguments (no others):" if closed else "Allowed arguments:"
    if brief:
        return f"{head} {', '.join(props)}"
    required = set(schema.get("required", []))
    lines = []
    for name, prop in props.items():
        prop = prop if isinstance(prop, Mapping) else {}
        need = "required" if name in required else "optional"
        line = f"- {name} ({_type_of(prop)}, {need})"
        desc = prop.get("description")
        if isinstance(desc, str) and desc and (explain is None or name in explain):
            line += f": {desc.splitlines()[0]}"
        lines.append(line)
    return head + "\n" + "\n".join(lines)


def _named(error: ValidationError, arguments: Mapping[str, Any]) -> list[str]:
    """The top-level argument names an error is about: where it is, or the required ones missing."""
    if error.absolute_path:
        return [str(error.absolute_path[0])]
    if error.validator == "required" and isinstance(error.validator_value, list):
        return [name for name in error.validator_value if isinstance(name, str) and name not in arguments]
    return []


def _non_finite(value: Any, path: str) -> str | None:
    """The path of the first NaN or infinite number inside `value`, if any."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, Mapping):
        items: Any = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for where, item in items:
        found = _non_finite(item, where)
        if found is not None:
            return found
    return None


def _short(text: str, limit: int = 200) -> str:
    """jsonschema's messages repeat the offending value whole: never echo megabytes back."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _number_bounds(schema: Mapping[str, Any]) -> Check:
    low, high = schema.get("minimum"), schema.get("maximum")
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    return lambda v: ((low is None or v >= low) and (high is None or v <= high)
                      and (xlow is None or v > xlow) and (xhigh is None or v < xhigh))


def _scalar_check(schema: Mapping[str, Any]) -> Check | None:
    """A check that is True only for values the schema surely accepts; None for a schema it cannot read."""
    known = _ANNOTATIONS | {"type", "pattern", "enum", "minLength", "maxLength", "minimum", "maximum",
                            "exclusiveMinimum", "exclusiveMaximum", "items", "maxItems", "minItems"}
    if not isinstance(schema, Mapping) or set(schema) - known:
        return None
    kind = schema.get("type")
    if kind == "string":
        pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
        enum = frozenset(v for v in schema.get("enum", ()) if isinstance(v, str)) if "enum" in schema else None
        shortest, longest = schema.get("minLength", 0), schema.get("maxLength")
        return lambda v: (type(v) is str and (pattern is None or pattern.search(v) is not None)
                          and (enum is None or v in enum) and len(v) >= shortest
                          and (longest is None or len(v) <= longest))
    if "enum" in schema or "pattern" in schema or "minLength" in schema or "maxLength" in schema:
        return None
    if kind in ("integer", "number"):
        # integer: only a Python int (a float such as 5.0 is left to the full validator); never a bool
        bounded = _number_bounds(schema)
        if kind == "integer":
            return lambda v: type(v) is int and bounded(v)
        return lambda v: (type(v) is int or (type(v) is float and math.isfinite(v))) and bounded(v)
    if kind == "boolean":
        return lambda v: type(v) is bool
    if kind == "array":
        item = _scalar_check(schema["items"]) if "items" in schema else (lambda v: True)
        if item is None:
            return None
        fewest, most = schema.get("minItems", 0), schema.get("maxItems")
        return lambda v: (type(v) is list and len(v) >= fewest and (most is None or len(v) <= most)
                          and all(item(x) for x in v))
    return None


def fast_check(schema: Mapping[str, Any]) -> Check | None:
    """A plain-Python check for the common tool schema (an object of typed, bounded properties).

    It answers True only when the arguments surely conform; anything else (False) goes to the full
    Draft 2020-12 validator, which decides and words the message. None: the schema uses something this
    check does not read, so every call goes to the full validator.
    """
    if schema.get("type") != "object" or set(schema) - (_ANNOTATIONS | {"type", "properties", "required",
                                                                        "additionalProperties"}):
        return None
    if not isinstance(schema.get("additionalProperties", True), bool):
        return None
    checks: dict[str, Check] = {}
    for name, prop in (schema.get("properties") or {}).items():
        check = _scalar_check(prop)
        if check is None:
            return None
        checks[name] = check
    required = tuple(schema.get("required", ()))

    def conforms(arguments: Any) -> bool:
        if type(arguments) is not dict or any(name not in arguments for name in required):
            return False
        for name, value in arguments.items():
            check = checks.get(name)
            if check is None or not check(value):
                return False  # an unknown key (allowed or not) or a doubtful value: the full validator says
        return True

    return conforms


class ArgumentValidator:
    """One compiled Draft 2020-12 validator for one tool's input schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        """Compile `schema`.

        Raises:
            InvalidSchema: the schema itself is not valid JSON Schema.
        """
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise InvalidSchema(exc.message) from exc
        self._schema = schema
        self._validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        # jsonschema walks the schema on every call (its cost showed in the gateway's profile)
        self._fast = fast_check(schema)

    def problems(self, arguments: Mapping[str, Any]) -> str | None:
        """None when `arguments` conform; otherwise a message for the model."""
        if self._fast is not None and self._fast(arguments):
            return None
        not_json = _non_finite(arguments, "arguments")
        if not_json is not None:
            # JSON has no NaN or Infinity; Python's parser lets them through and schemas accept them.
            return f"Invalid arguments:\n- {not_json}: NaN and Infinity are not JSON numbers; send a finite number"
        errors = sorted(
            self._validator.iter_errors(dict(arguments)),
            key=lambda e: [str(p) for p in e.absolute_path],
        )
        if not errors:
            return None
        lines = [f"- {_path(e)}: {_short(e.message)}" for e in errors[:_MAX_ERRORS]]
        if len(errors) > _MAX_ERRORS:
            lines.append(f"- ... and {len(errors) - _MAX_ERRORS} more")
        # The allowed arguments as fully as the size budget lets: all described, then only those at
        # fault, then names only (a model sent many bad values of a tool with many arguments).
        at_fault = {name for e in errors for name in _named(e, arguments)}
        for allowed in (describe_schema(self._schema), describe_schema(self._schema, at_fault),
                        describe_schema(self._schema, ())):
            message = "\n".join(["Invalid arguments:", *lines, allowed]).rstrip("\n")
            if len(message.encode()) <= _MESSAGE_BYTES:
                return message
        return "\n".join(["Invalid arguments:", *lines, describe_schema(self._schema, brief=True)])
