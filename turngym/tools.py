"""The one tool declaration every env shares: a name, a JSON schema and (maybe) a Python function.

A tool is declared once and serves three readers: the model sees ``openai_schema()``, the env
checks a call with :func:`validate_arguments` before running ``tool.fn(**arguments)``, and a
domain failure inside the function is raised as :class:`ToolError` so the env can hand its
message back to the agent as an error tool result. Tools whose code runs elsewhere (an MCP
server, a benchmark that only scores calls) have ``fn=None``.

:func:`tool_from_function` derives the schema from a typed, Google-style documented function, so
a tool's contract lives next to its code and cannot drift from it.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal, Union

import jsonschema


class ToolError(Exception):
    """A domain failure the agent should read (``insufficient funds``, ``unknown id ...``)."""


@dataclass
class ToolOutput:
    """A tool result with more than text: whether it worked, and facts for reward components.

    E.g. a code tool returns ``ToolOutput(text, ok=False, signals={"code_error": 1.0})`` so a
    ``code_error`` penalty can see the failure without parsing the text.
    """

    content: str
    ok: bool = True
    signals: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tool:
    """A callable the agent may request, described by a JSON schema of its keyword arguments."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema: type object, properties, required, additionalProperties
    fn: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a tool needs a non-empty name")
        if self.parameters.get("type") != "object":
            raise ValueError(
                f"tool {self.name!r}: parameters must be a JSON schema of type 'object', got {self.parameters!r}"
            )
        problem = _schema_problem(json.dumps(self.parameters, sort_keys=True, default=repr))
        if problem is not None:
            raise ValueError(f"tool {self.name!r}: parameters are not a valid JSON schema: {problem}")

    def openai_schema(self) -> dict[str, Any]:
        """The tool as the OpenAI chat API (and most chat templates) expects it."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def bound_to(self, fn: Callable[..., Any]) -> Tool:
        """The same declaration running ``fn`` (e.g. one method on another world instance).

        A shallow copy, so the schema check and the compiled validator are not redone.
        """
        tool = copy.copy(self)
        tool.fn = fn
        return tool

    @cached_property
    def validator(self) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(self.parameters)


@lru_cache(maxsize=4096)
def _schema_problem(schema_json: str) -> str | None:
    """Check a schema against the JSON Schema meta-schema once per distinct schema.

    The check costs ~1 ms, and envs that declare their tools per episode would pay it on
    every reset for the same few schemas.
    """
    try:
        jsonschema.Draft202012Validator.check_schema(json.loads(schema_json))
    except jsonschema.SchemaError as exc:
        return exc.message
    return None


def validate_arguments(tool: Tool, arguments: Any) -> str | None:
    """``None`` if ``arguments`` fit the tool's schema, else every problem in one message."""
    if not isinstance(arguments, dict):
        return f"Arguments for tool {tool.name!r} must be a JSON object, got {type(arguments).__name__}: {arguments!r}"
    errors = sorted(tool.validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    problems = [_describe(e) for e in errors]
    return f"Invalid arguments for tool {tool.name!r}: " + "; ".join(problems) + "."


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        return f"{error.message} (allowed: {sorted(error.schema.get('properties', {}))})"
    return f"{where}: {error.message}" if where else error.message


# ---------------------------------------------------------------------------------------------
# Schema from a typed, documented function


def tool_from_function(fn: Callable[..., Any], name: str | None = None) -> Tool:
    """Declare ``fn`` as a tool; its type hints and Google-style docstring give the schema.

    ``Literal`` becomes an ``enum``, ``X | None`` / ``Optional[X]`` and parameters with a default
    are not required, ``list[X]`` is an array of X, ``dict`` an object. The docstring's first
    paragraph is the description and its ``Args:`` section describes each parameter.
    """
    tool_name = name or fn.__name__
    doc = inspect.getdoc(fn)
    if not doc:
        raise ValueError(f"tool {tool_name!r}: the function needs a docstring (the tool description)")
    description, arg_docs = parse_google_docstring(doc)
    hints = typing.get_type_hints(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ValueError(f"tool {tool_name!r}: *args/**kwargs cannot be described by a schema")
        if param.name not in hints:
            raise ValueError(f"tool {tool_name!r}: parameter {param.name!r} needs a type hint")
        hint = hints[param.name]
        schema = json_schema_for(hint, where=f"{tool_name}.{param.name}")
        if param.name in arg_docs:
            schema["description"] = arg_docs[param.name]
        properties[param.name] = schema
        if param.default is inspect.Parameter.empty and not _is_optional(hint):
            required.append(param.name)
    unknown = set(arg_docs) - set(properties)
    if unknown:
        raise ValueError(f"tool {tool_name!r}: docstring documents unknown parameters {sorted(unknown)}")
    parameters = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return Tool(name=tool_name, description=description, parameters=parameters, fn=fn)


_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def json_schema_for(hint: Any, where: str = "value") -> dict[str, Any]:
    """The JSON schema of one Python type hint (the subset tools need; anything else raises)."""
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if hint is Any:
        return {}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is dict or origin is dict:
        schema: dict[str, Any] = {"type": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = json_schema_for(args[1], where)
        return schema
    if hint is list or origin is list:
        return {"type": "array", "items": json_schema_for(args[0], where)} if args else {"type": "array"}
    if origin is Literal:
        kinds = {type(a) for a in args}
        if len(kinds) == 1 and kinds <= set(_SCALARS):
            return {"type": _SCALARS[kinds.pop()], "enum": list(args)}
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        inner = (
            json_schema_for(members[0], where)
            if len(members) == 1
            else {"anyOf": [json_schema_for(m, where) for m in members]}
        )
        return _nullable(inner) if len(members) < len(args) else inner
    raise TypeError(f"{where}: type hint {hint!r} has no JSON schema mapping in turngym.tools")


def _is_optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType) and type(None) in typing.get_args(hint)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Let ``null`` through too: models often send ``null`` for an optional argument."""
    if "enum" in schema:
        schema = {**schema, "enum": [*schema["enum"], None]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


_SECTION_RE = re.compile(r"^(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$")
_ARG_RE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_google_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {parameter: description})."""
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    args_indent = 0
    for line in lines:
        header = _SECTION_RE.match(line.strip()) if not line.startswith(" ") else None
        if header:
            section, current = header.group(1), None
            continue
        if section is None:
            description.append(line)
        elif section in ("Args", "Arguments", "Parameters") and line.strip():
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            match = _ARG_RE.match(stripped)
            if match and (current is None or indent <= args_indent):
                current, args_indent = match.group(1).lstrip("*"), indent
                args[current] = match.group(2).strip()
            elif current is not None:
                args[current] = f"{args[current]} {stripped}".strip()
    paragraphs = "\n".join(description).strip().split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs), args
