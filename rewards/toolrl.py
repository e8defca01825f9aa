"""ToolRL's tool-call rewards, and BFCL's AST match, as pure functions of calls.

ToolRL (Qian et al., 2025, "ToolRL: Reward is All Tool Learning Needs") splits a tool-calling
response's reward into a *format* part in [0, 1] and a *correctness* part in [-3, 3] that
gives partial credit for the right tool names, the right parameter names and the right values:

    S     = match(names) + Σ_matched (match(keys(p), keys(g)) + Σ_{k ∈ keys(g)} [p[k] == g[k]])
    S_max = 1 + |G| + Σ_g |keys(g)|
    R     = 6 · S / S_max − 3                    (−3 when the response cannot be parsed)

with ``match(a, b) = |a ∩ b| / (|a| + |b| − |a ∩ b|)`` (Jaccard; on multisets of tool names and
on sets of parameter keys; two empty collections match fully).

Pairing predicted calls with gold calls: only calls with the same name can pair; among all
same-name (gold, predicted) pairs we repeatedly take the one with the highest per-pair score
``match(keys) + Σ value equality`` (ties: earlier gold call, then earlier predicted call) until
no unpaired same-name pair is left. Unpaired calls earn nothing beyond their effect on
``match(names)``. This is greedy, order-insensitive, and never pairs a call twice.

Value equality is exact, except that numbers compare numerically (``1 == 1.0``) while booleans
never equal numbers; lists and dicts compare element-wise by the same rule.

:func:`ast_match` is BFCL's AST checker for its ``possible_answer`` format: each parameter maps
to a list of acceptable values, ``""`` in that list means the parameter may be omitted, strings
compare after BFCL's standardisation (lowercase; spaces and ``,./-_*^`` removed), an int is
accepted for a float (``number``) parameter, and calls pair without regard to order.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# ---------------------------------------------------------------------------------------------
# Format


Requirement = Literal["call", "answer", "call_or_answer", "call_and_answer", "none"]


@dataclass(frozen=True)
class ResponseFormat:
    """The structure a well-formed response has (the checked structure is this parameter).

    ``think``: the response opens with one non-empty ``<think>`` block. ``require``: which of
    tool-call blocks and the answer block must be present. ``strict``: no text outside tags.
    Every tool-call block must hold a JSON object with a string ``name`` and an object
    ``arguments``; at most one answer block may appear.
    """

    think: bool = True
    require: Requirement = "call_or_answer"
    strict: bool = False
    think_tag: str = "think"
    call_tag: str = "tool_call"
    answer_tag: str = "answer"


TOOLRL_FORMAT = ResponseFormat()


def _blocks(text: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.DOTALL)


def parse_tool_calls(text: str, call_tag: str = "tool_call") -> list[dict[str, Any]] | None:
    """The ``{"name", "arguments"}`` calls in a response's tool-call blocks; None if any is malformed."""
    calls = []
    for body in _blocks(text, call_tag):
        try:
            obj = json.loads(body)
        except json.JSONDecodeError:
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            return None
        arguments = obj.get("arguments", {})
        if isinstance(arguments, str):  # some templates emit arguments as a JSON string
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                return None
        if not isinstance(arguments, dict):
            return None
        calls.append({"name": obj["name"], "arguments": arguments})
    if text.count(f"<{call_tag}>") != len(calls):  # an unclosed block
        return None
    return calls


def format_reward(text: str, fmt: ResponseFormat = TOOLRL_FORMAT) -> float:
    """1.0 if ``text`` has the structure ``fmt`` describes, else 0.0."""
    if not isinstance(text, str):
        return 0.0
    tags = (fmt.think_tag, fmt.call_tag, fmt.answer_tag)
    for tag in tags:  # every opened tag is closed, and none nests
        if text.count(f"<{tag}>") != text.count(f"</{tag}>"):
            return 0.0
    if fmt.think:
        thinks = _blocks(text, fmt.think_tag)
        if len(thinks) != 1 or not thinks[0].strip() or not text.lstrip().startswith(f"<{fmt.think_tag}>"):
            return 0.0
    calls = parse_tool_calls(text, fmt.call_tag)
    if calls is None:
        return 0.0
    answers = _blocks(text, fmt.answer_tag)
    if len(answers) > 1:
        return 0.0
    has_call, has_answer = bool(calls), bool(answers)
    required = {
        "call": has_call,
        "answer": has_answer,
        "call_or_answer": has_call or has_answer,
        "call_and_answer": has_call and has_answer,
        "none": True,
    }[fmt.require]
    if not required:
        return 0.0
    if fmt.strict:
        rest = text
        for tag in tags:
            rest = re.sub(rf"<{tag}>.*?</{tag}>", "", rest, flags=re.DOTALL)
        if rest.strip():
            return 0.0
    return 1.0


# ---------------------------------------------------------------------------------------------
# Correctness


def match_score(a: Collection[Any], b: Collection[Any]) -> float:
    """Jaccard ``|a ∩ b| / (|a| + |b| − |a ∩ b|)`` on multisets; 1.0 when both are empty."""
    ca, cb = Counter(a), Counter(b)
    common = sum((ca & cb).values())
    union = sum(ca.values()) + sum(cb.values()) - common
    return 1.0 if union == 0 else common / union


def values_equal(a: Any, b: Any) -> bool:
    """Exact equality, numbers numerically, booleans apart from numbers, containers recursively."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _as_call(c: Any) -> tuple[str, Mapping[str, Any]]:
    """A call from a ``{"name", "arguments"}`` mapping or an object with those attributes."""
    if isinstance(c, Mapping):
        name, arguments = c.get("name"), c.get("arguments", {})
    else:
        name, arguments = getattr(c, "name", None), getattr(c, "arguments", None)
    if not isinstance(name, str) or not isinstance(arguments, Mapping):
        raise TypeError(f"a call needs a string name and a mapping of arguments, got {c!r}")
    return name, arguments


def _pair_score(pred: Mapping[str, Any], gold: Mapping[str, Any]) -> float:
    keys = match_score(set(pred), set(gold))
    return keys + sum(1 for k in gold if k in pred and values_equal(pred[k], gold[k]))


@dataclass
class Correctness:
    """The parts of the ToolRL correctness score, for logging beside the reward."""

    score: float  # S
    max_score: float  # S_max
    name_match: float
    pairs: list[tuple[int, int, float]] = field(default_factory=list)  # (gold index, predicted index, pair score)

    @property
    def reward(self) -> float:
        return 6.0 * self.score / self.max_score - 3.0


def correctness(predicted: Sequence[Any], gold: Sequence[Any]) -> Correctness:
    """S, S_max and the call pairing (see the module docstring for the rule)."""
    preds = [_as_call(c) for c in predicted]
    golds = [_as_call(c) for c in gold]
    name_match = match_score([n for n, _ in preds], [n for n, _ in golds])
    candidates = sorted(
        (
            (-_pair_score(pa, ga), gi, pi)
            for gi, (gn, ga) in enumerate(golds)
            for pi, (pn, pa) in enumerate(preds)
            if gn == pn
        )
    )
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    pairs = []
    for neg_score, gi, pi in candidates:
        if gi not in used_gold and pi not in used_pred:
            used_gold.add(gi)
            used_pred.add(pi)
            pairs.append((gi, pi, -neg_score))
    score = name_match + sum(s for _, _, s in pairs)
    max_score = 1 + len(golds) + sum(len(ga) for _, ga in golds)
    return Correctness(score, max_score, name_match, pairs)


def correctness_reward(predicted: Sequence[Any] | None, gold: Sequence[Any]) -> float:
    """ToolRL's correctness reward in [−3, 3]; ``predicted=None`` means unparseable → −3."""
    if predicted is None:
        return -3.0
    return correctness(predicted, gold).reward


def toolrl_reward(text: str, gold: Sequence[Any], fmt: ResponseFormat = TOOLRL_FORMAT) -> dict[str, float]:
    """Both ToolRL parts for one text response (calls parsed from ``fmt.call_tag`` blocks)."""
    calls = parse_tool_calls(text, fmt.call_tag) if isinstance(text, str) else None
    return {"format": format_reward(text, fmt), "correctness": correctness_reward(calls, gold)}


# ---------------------------------------------------------------------------------------------
# BFCL AST match


@dataclass
class AstResult:
    valid: bool
    errors: list[str] = field(default_factory=list)


def standardize_string(text: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lowercase, ``'`` → ``"``."""
    return re.sub(r"[ ,./\-_*^]", "", text).lower().replace("'", '"')


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
}


def ast_match(
    predicted: Sequence[Any],
    possible_answer: Sequence[Mapping[str, Mapping[str, Sequence[Any]]]],
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
) -> AstResult:
    """BFCL AST check of predicted calls against ``[{func_name: {param: [acceptable, ...]}}]``.

    ``parameters`` maps a function name to its JSON-schema parameters (for required
    parameters and type checks); without it only the possible answer is consulted. Calls are
    paired without regard to order, each gold call with the first unpaired call that passes.
    """
    calls = [_as_call(c) for c in predicted]
    if len(calls) != len(possible_answer):
        return AstResult(False, [f"Wrong number of functions: expected {len(possible_answer)}, got {len(calls)}."])
    unmatched = list(range(len(calls)))
    for expected in possible_answer:
        if len(expected) != 1:
            raise ValueError(f"a possible answer holds exactly one function, got {list(expected)}")
        ((func, acceptable),) = expected.items()
        errors: list[str] = []
        for i in unmatched:
            problem = _check_call(calls[i], func, acceptable, (parameters or {}).get(func))
            if problem is None:
                unmatched.remove(i)
                break
            errors.append(f"call {i}: {problem}")
        else:
            return AstResult(False, [f"No call matches {func}: " + "; ".join(errors or ["no calls left"])])
    return AstResult(True)


def _check_call(
    call: tuple[str, Mapping[str, Any]],
    func: str,
    acceptable: Mapping[str, Sequence[Any]],
    schema: Mapping[str, Any] | None,
) -> str | None:
    name, arguments = call
    if name != func:
        return f"function name {name!r} is not {func!r}"
    properties = (schema or {}).get("properties", {})
    for param in (schema or {}).get("required", []):
        if param not in arguments:
            return f"missing required parameter {param!r}"
    for param, value in arguments.items():
        if param not in acceptable or (schema is not None and param not in properties):
            return f"unexpected parameter {param!r}"
        expected_type = properties.get(param, {}).get("type")
        if isinstance(expected_type, str) and expected_type in _JSON_TYPES:
            ok = isinstance(value, _JSON_TYPES[expected_type]) and not (
                isinstance(value, bool) and expected_type in ("integer", "number")
            )
            if not ok:
                return f"parameter {param!r} should be {expected_type}, got {type(value).__name__} {value!r}"
        if not _value_ok(value, acceptable[param]):
            return f"invalid value for {param!r}: {value!r}, expected one of {list(acceptable[param])}"
    for param, values in acceptable.items():
        if param not in arguments and "" not in values:
            return f"parameter {param!r} not provided and not optional"
    return None


def _value_ok(value: Any, acceptable: Sequence[Any]) -> bool:
    """Whether ``value`` equals one acceptable value under BFCL's normalisations."""
    candidates = [a for a in acceptable if a != ""]
    if isinstance(value, Mapping):
        return any(isinstance(c, Mapping) and _dict_ok(value, c) for c in candidates)
    return any(_normalise(value) == _normalise(c) for c in candidates)


def _dict_ok(value: Mapping[str, Any], expected: Mapping[str, Sequence[Any]]) -> bool:
    """A dict value against ``{key: [acceptable values]}`` (BFCL's dict_checker)."""
    for key, item in value.items():
        if key not in expected or not _value_ok(item, expected[key]):
            return False
    return all(key in value or "" in values for key, values in expected.items())


def _normalise(value: Any) -> Any:
    """Strings standardised, tuples as lists, ints as floats (an int is accepted for a float)."""
    if isinstance(value, str):
        return standardize_string(value)
    if isinstance(value, bool):
        return ("bool", value)  # keep True apart from 1
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _normalise(v) for k, v in value.items()}
    return value
