"""Function-calling benchmarks as single-turn :class:`ToolTask` s: BFCL, xLAM and ToolACE.

Each loader reads the files a benchmark ships (never downloads) and yields tasks whose tools
are schema-only :class:`turngym.tools.Tool` s (``fn=None``: nothing runs, the calls are scored)
and whose gold calls form one turn. Scoring is on calls: ToolRL correctness for every task,
plus BFCL's AST match where a ``possible_answer`` exists (:func:`score_calls`).

Formats:

* BFCL: a JSONL file of ``{"id", "question", "function"}`` (``question`` is a list of turns of
  chat messages, or a plain string in old releases; ``function`` the function docs, whose
  types are Python-flavoured: ``dict``, ``float``, ``tuple``, ``any``), and a JSONL file of
  ``{"id", "ground_truth": [{func_name: {param: [acceptable values]}}]}``. The gold calls take
  each parameter's first acceptable value and leave out parameters that may be omitted (``""``).
* xLAM (``xlam-function-calling-60k``): a JSON list (or JSONL) of ``{"id", "query", "tools",
  "answers"}`` where ``tools`` and ``answers`` are JSON strings; parameter types are Python
  type strings such as ``"List[int]"`` or ``"str, optional"``.
* ToolACE: a JSON list (or JSONL) of ``{"system", "conversations": [{"from", "value"}]}``; the
  tools are a JSON list inside the system prompt, and the assistant calls functions with
  Python-call syntax ``[Func Name(arg=1), other(b="x")]`` (names may contain spaces). Every
  assistant turn that calls functions becomes one task, with the conversation before it.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from turngym.rewards.toolrl import ast_match, correctness_reward
from turngym.tasks.base import DatasetFormatError, read_jsonl
from turngym.tasks.toolworlds.task import ToolTask
from turngym.tools import Tool

log = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]


# ---------------------------------------------------------------------------------------------
# Schemas: benchmark type names → JSON schema


_TYPE_NAMES: dict[str, str | None] = {
    "dict": "object",
    "object": "object",
    "float": "number",
    "number": "number",
    "double": "number",
    "int": "integer",
    "integer": "integer",
    "long": "integer",
    "str": "string",
    "string": "string",
    "bool": "boolean",
    "boolean": "boolean",
    "list": "array",
    "array": "array",
    "tuple": "array",
    "null": "null",
    "none": "null",
    "any": None,
}


def json_schema_from_doc(schema: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A BFCL/ToolACE parameter schema with its Python type names mapped to JSON schema."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            names = value if isinstance(value, list) else [value]
            mapped = []
            for name in names:
                if not isinstance(name, str) or name.lower() not in _TYPE_NAMES:
                    raise DatasetFormatError(f"{where}: unknown parameter type {name!r}")
                if _TYPE_NAMES[name.lower()] is not None:
                    mapped.append(_TYPE_NAMES[name.lower()])
            if mapped:
                out["type"] = mapped[0] if len(mapped) == 1 else mapped
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {k: json_schema_from_doc(v, f"{where}.{k}") for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            out[key] = json_schema_from_doc(value, f"{where}[]")
        else:
            out[key] = value
    return out


def tool_from_doc(doc: Mapping[str, Any], where: str) -> Tool:
    """A schema-only tool from a ``{name, description, parameters}`` function doc."""
    if not isinstance(doc.get("name"), str):
        raise DatasetFormatError(f"{where}: a function doc needs a string 'name', got {doc!r}")
    parameters = json_schema_from_doc(
        doc.get("parameters") or {"type": "dict", "properties": {}}, f"{where}:{doc['name']}"
    )
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    return Tool(name=doc["name"], description=doc.get("description", ""), parameters=parameters)


_PY_TYPE_RE = re.compile(r"^(?P<base>[A-Za-z]+)\s*(?:\[(?P<inner>.*)\])?$")


def json_schema_from_python_type(type_name: str) -> dict[str, Any] | None:
    """JSON schema for a Python type string (``"List[int]"``, ``"Dict"``...); None if unknown."""
    text = type_name.strip()
    if " or " in text or (text.startswith(("Union[", "Optional[")) and text.endswith("]")):
        parts = text.split(" or ") if " or " in text else _split_top(text[text.index("[") + 1 : -1])
        schemas = [json_schema_from_python_type(p) for p in parts]
        if any(s is None for s in schemas):
            return None
        if text.startswith("Optional["):
            schemas.append({"type": "null"})
        return {"anyOf": schemas}
    match = _PY_TYPE_RE.match(text)
    if not match or match["base"].lower() not in _TYPE_NAMES:
        return None
    mapped = _TYPE_NAMES[match["base"].lower()]
    if mapped is None:
        return {}
    schema: dict[str, Any] = {"type": mapped}
    if match["inner"] and mapped == "array":
        items = [json_schema_from_python_type(p) for p in _split_top(match["inner"])]
        if items[0] and all(i == items[0] for i in items):  # List[X], or a Tuple of one type
            schema["items"] = items[0]
    return schema


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets: ``"str, List[int]"`` → ``["str", "List[int]"]``."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    return [*parts, current.strip()] if current.strip() else parts


def tool_from_xlam(doc: Mapping[str, Any], where: str) -> Tool:
    """A schema-only tool from an xLAM doc, whose parameters map name → {type, description, default}."""
    if not isinstance(doc.get("name"), str):
        raise DatasetFormatError(f"{where}: a tool needs a string 'name', got {doc!r}")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param, spec in (doc.get("parameters") or {}).items():
        raw_type = str(spec.get("type", "any"))
        optional = raw_type.endswith(", optional")
        type_name = raw_type[: -len(", optional")] if optional else raw_type
        schema = json_schema_from_python_type(type_name)
        description = spec.get("description", "")
        if schema is None:  # keep the information where the model reads it
            log.debug("%s: parameter %s has type %r with no JSON schema mapping", where, param, raw_type)
            schema, description = {}, f"{description} (type: {type_name})".strip()
        if description:
            schema["description"] = description
        if "default" in spec and spec["default"] not in ("", None):
            schema["default"] = spec["default"]
        properties[param] = schema
        if not optional and "default" not in spec:
            required.append(param)
    parameters = {"type": "object", "properties": properties, "required": required}
    return Tool(name=doc["name"], description=doc.get("description", ""), parameters=parameters)


# ---------------------------------------------------------------------------------------------
# Reading files


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records from a JSON list or a JSONL file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        records = json.loads(text)
    else:
        return [record for _, record in read_jsonl(path)]
    if not all(isinstance(r, dict) for r in records):
        raise DatasetFormatError(f"{path}: every record must be a JSON object")
    return records


def _collect(
    records: Iterable[Any], build: Callable[[Any], list[ToolTask]], on_error: OnError, what: str
) -> list[ToolTask]:
    tasks, skipped = [], 0
    for record in records:
        try:
            tasks.extend(build(record))
        except (ValueError, SyntaxError, KeyError, TypeError) as exc:
            if on_error == "raise":
                raise
            skipped += 1
            log.warning("%s: skipped a record: %s", what, exc)
    if skipped:
        log.warning("%s: skipped %d malformed records, kept %d tasks", what, skipped, len(tasks))
    return tasks


def _difficulty(n_calls: int) -> str:
    return "easy" if n_calls <= 1 else "medium" if n_calls == 2 else "hard"


# ---------------------------------------------------------------------------------------------
# BFCL

_BFCL_DIFFICULTY = {
    "simple": "easy",
    "irrelevance": "easy",
    "multiple": "medium",
    "parallel": "medium",
    "parallel_multiple": "hard",
}
_NO_CALL_CATEGORIES = ("irrelevance", "live_irrelevance")


def bfcl_category(task_id: str) -> str:
    """``"live_parallel_multiple_3-2-1"`` → ``"live_parallel_multiple"``."""
    return re.sub(r"_\d+(-\d+)*$", "", task_id)


def gold_from_possible_answer(
    possible_answer: Sequence[Mapping[str, Mapping[str, Sequence[Any]]]],
) -> list[dict[str, Any]]:
    """One canonical call per ground-truth entry: first acceptable values, optional ones left out."""
    calls = []
    for entry in possible_answer:
        ((name, params),) = entry.items()
        arguments = {}
        for param, values in params.items():
            if "" in values:
                continue
            if not values:
                raise DatasetFormatError(f"{name}.{param}: no acceptable value")
            arguments[param] = _first_concrete(values[0])
        calls.append({"name": name, "arguments": arguments})
    return calls


def _first_concrete(value: Any) -> Any:
    """A nested dict answer ``{key: [acceptable]}`` reduced to one concrete dict, recursively."""
    if isinstance(value, Mapping):
        return {k: _first_concrete(v[0]) for k, v in value.items() if isinstance(v, list) and v and v[0] != ""}
    return value


def load_bfcl(
    questions: str | Path,
    possible_answers: str | Path | None = None,
    *,
    split: str = "test",
    on_error: OnError = "raise",
) -> list[ToolTask]:
    """BFCL single-turn categories (simple, multiple, parallel, parallel_multiple, irrelevance, live_*)."""
    answers: dict[str, list[Any]] = {}
    if possible_answers is not None:
        for record in read_records(possible_answers):
            answers[str(record["id"])] = record["ground_truth"]

    def build(record: dict[str, Any]) -> list[ToolTask]:
        task_id = str(record.get("id"))
        where = f"{questions}:{task_id}"
        messages = _bfcl_messages(record.get("question"), where)
        docs = record.get("function")
        docs = [docs] if isinstance(docs, Mapping) else docs
        if not isinstance(docs, list):
            raise DatasetFormatError(f"{where}: 'function' must be a list of function docs")
        tools = [tool_from_doc(d, where) for d in docs]
        category = bfcl_category(task_id)
        if task_id in answers:
            possible = answers[task_id]
        elif category.endswith(_NO_CALL_CATEGORIES):
            possible = []  # the right response calls nothing
        elif possible_answers is not None:
            raise DatasetFormatError(f"{where}: no possible answer for this id")
        else:
            possible = None
        gold = gold_from_possible_answer(possible) if possible is not None else []
        return [
            ToolTask(
                id=f"bfcl-{task_id}",
                difficulty=_BFCL_DIFFICULTY.get(category.removeprefix("live_"), "medium"),
                split=split,
                meta={"source": "bfcl", "category": category},
                instruction=messages[-1]["content"],
                tool_names=[t.name for t in tools],
                gold_turns=[gold] if gold else [],
                tools=tools,
                messages=messages[:-1],
                possible_answer=possible,
            )
        ]

    return _collect(read_records(questions), build, on_error, f"BFCL {questions}")


def _bfcl_messages(question: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(question, str):
        return [{"role": "user", "content": question}]
    if isinstance(question, list) and question and all(isinstance(turn, list) for turn in question):
        if len(question) != 1:
            raise DatasetFormatError(f"{where}: {len(question)} user turns; only single-turn categories load here")
        question = question[0]
    if not (isinstance(question, list) and question and all(isinstance(m, Mapping) for m in question)):
        raise DatasetFormatError(f"{where}: 'question' must be text or a list of chat messages")
    if question[-1].get("role") != "user":
        raise DatasetFormatError(f"{where}: the last question message must be the user's")
    return [dict(m) for m in question]


# ---------------------------------------------------------------------------------------------
# xLAM


def load_xlam(path: str | Path, *, split: str = "train", on_error: OnError = "raise") -> list[ToolTask]:
    """xLAM function-calling rows: a query, its tools and the calls that answer it."""

    def build(record: dict[str, Any]) -> list[ToolTask]:
        where = f"{path}:{record.get('id')}"
        tool_docs = _json_field(record, "tools", where)
        calls = _json_field(record, "answers", where)
        tools = [tool_from_xlam(d, where) for d in tool_docs]
        gold = [_checked_call(c, where) for c in calls]
        return [
            ToolTask(
                id=f"xlam-{record.get('id')}",
                difficulty=_difficulty(len(gold)),
                split=split,
                meta={"source": "xlam"},
                instruction=str(record["query"]),
                tool_names=[t.name for t in tools],
                gold_turns=[gold] if gold else [],
                tools=tools,
            )
        ]

    return _collect(read_records(path), build, on_error, f"xLAM {path}")


def _json_field(record: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = record.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(f"{where}: '{key}' is not valid JSON: {exc}") from exc
    if not isinstance(value, list):
        raise DatasetFormatError(f"{where}: '{key}' must be a JSON list")
    return value


def _checked_call(c: Any, where: str) -> dict[str, Any]:
    if (
        not isinstance(c, Mapping)
        or not isinstance(c.get("name"), str)
        or not isinstance(c.get("arguments", {}), Mapping)
    ):
        raise DatasetFormatError(f"{where}: a call needs a string 'name' and object 'arguments', got {c!r}")
    return {"name": c["name"], "arguments": dict(c.get("arguments", {}))}


# ---------------------------------------------------------------------------------------------
# ToolACE

_TOOLACE_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant", "tool": "tool"}
_TOOLS_MARKER = re.compile(r"functions in JSON format that you can invoke", re.IGNORECASE)


def load_toolace(path: str | Path, *, split: str = "train", on_error: OnError = "raise") -> list[ToolTask]:
    """ToolACE dialogues: one task per assistant turn that calls functions."""
    records = read_records(path)

    def build(indexed: tuple[int, dict[str, Any]]) -> list[ToolTask]:
        row, record = indexed
        where = f"{path}:{row}"
        tools = [tool_from_doc(d, where) for d in toolace_tools(record.get("system", ""), where)]
        history: list[dict[str, Any]] = []
        tasks = []
        for turn, message in enumerate(record.get("conversations") or []):
            role = _TOOLACE_ROLES.get(message.get("from"))
            if role is None:
                raise DatasetFormatError(f"{where}: unknown speaker {message.get('from')!r}")
            value = str(message.get("value", ""))
            calls = parse_call_list(value) if role == "assistant" and looks_like_calls(value) else None
            if calls is not None:
                last_user = max((i for i, m in enumerate(history) if m["role"] == "user"), default=None)
                if last_user is None:
                    raise DatasetFormatError(f"{where}: an assistant call before any user message")
                tasks.append(
                    ToolTask(
                        id=f"toolace-{row}-{turn}",
                        difficulty=_difficulty(len(calls)),
                        split=split,
                        meta={"source": "toolace", "system": record.get("system", "")},
                        instruction=history[last_user]["content"],
                        followup=[dict(m) for m in history[last_user + 1 :]],
                        tool_names=[t.name for t in tools],
                        gold_turns=[calls],
                        tools=tools,
                        messages=[dict(m) for m in history[:last_user]],
                    )
                )
                history.append(_assistant_calls(calls, f"call_{turn}"))
            elif role == "tool" and history and history[-1].get("tool_calls"):
                history.extend(_tool_results(value, history[-1]["tool_calls"]))
            else:
                history.append({"role": role, "content": value})
        return tasks

    return _collect(enumerate(records), build, on_error, f"ToolACE {path}")


def toolace_tools(system: str, where: str) -> list[dict[str, Any]]:
    """The JSON list of function docs embedded in a ToolACE system prompt."""
    marker = _TOOLS_MARKER.search(system)
    start = system.find("[", marker.end()) if marker else -1
    if start < 0:
        raise DatasetFormatError(f"{where}: no function list in the system prompt")
    try:
        docs, _ = json.JSONDecoder().raw_decode(system[start:])
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"{where}: the function list is not valid JSON: {exc}") from exc
    if not isinstance(docs, list):
        raise DatasetFormatError(f"{where}: the function list must be a JSON list")
    return docs


def looks_like_calls(text: str) -> bool:
    text = text.strip()
    return text.startswith("[") and text.endswith("]") and re.match(r"^\[\s*[^\[\]()\"']+\(", text) is not None


def parse_call_list(text: str) -> list[dict[str, Any]]:
    """``[Func Name(a=1, b="x"), g()]`` → calls; names may hold spaces, values are Python literals."""
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise DatasetFormatError(f"a call list is wrapped in [...], got {text[:80]!r}")
    calls = []
    for segment in _split_calls(body[1:-1]):
        open_at = segment.find("(")
        if open_at <= 0 or not segment.endswith(")"):
            raise DatasetFormatError(f"not a function call: {segment[:80]!r}")
        name = segment[:open_at].strip()
        node = ast.parse(f"f({segment[open_at + 1 : -1]})", mode="eval").body
        assert isinstance(node, ast.Call)
        if node.args:
            raise DatasetFormatError(f"{name}: positional arguments are not allowed: {segment[:80]!r}")
        calls.append({"name": name, "arguments": {kw.arg: _literal(kw.value, name) for kw in node.keywords}})
    return calls


def _split_calls(text: str) -> Iterator[str]:
    """Top-level comma split that respects brackets and string quotes."""
    depth, quote, start = 0, "", 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            if text[start:i].strip():
                yield text[start:i].strip()
            start = i + 1
        i += 1
    if text[start:].strip():
        yield text[start:].strip()


_JSON_WORDS = {"true": True, "false": False, "null": None}


def _literal(node: ast.expr, where: str) -> Any:
    """A Python literal, also accepting JSON's true/false/null (ToolACE mixes both)."""
    if isinstance(node, ast.Name) and node.id in _JSON_WORDS:
        return _JSON_WORDS[node.id]
    if isinstance(node, ast.List):
        return [_literal(e, where) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k, where): _literal(v, where) for k, v in zip(node.keys, node.values) if k is not None}
    try:
        return ast.literal_eval(node)
    except ValueError as exc:
        raise DatasetFormatError(f"{where}: argument {ast.unparse(node)!r} is not a literal") from exc


def _assistant_calls(calls: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": f"{prefix}_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
            }
            for i, c in enumerate(calls)
        ],
    }


def _tool_results(value: str, tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ToolACE answers all calls of a turn in one message; split it per call when it lines up."""
    try:
        results = json.loads(value)
    except json.JSONDecodeError:
        results = None
    if isinstance(results, list) and len(results) == len(tool_calls):
        return [
            {"role": "tool", "tool_call_id": tc["id"], "content": json.dumps(r)} for tc, r in zip(tool_calls, results)
        ]
    return [{"role": "tool", "tool_call_id": tool_calls[0]["id"], "content": value}]


# ---------------------------------------------------------------------------------------------
# Scoring


def score_calls(task: ToolTask, predicted: Sequence[Any] | None) -> dict[str, float]:
    """ToolRL correctness in [−3, 3], and BFCL AST match (1/0) where the task has a possible answer."""
    scores = {"toolrl_correctness": correctness_reward(predicted, task.gold_calls)}
    if task.possible_answer is not None:
        schemas = {t.name: t.parameters for t in task.tools}
        scores["ast_match"] = float(predicted is not None and ast_match(predicted, task.possible_answer, schemas).valid)
    return scores
