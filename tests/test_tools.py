"""The shared tool declaration: schema from a typed function, argument validation."""

from __future__ import annotations

from typing import Literal

import pytest

from turngym.tools import Tool, ToolError, tool_from_function, validate_arguments


def transfer(
    source: str,
    amount: float,
    kind: Literal["wire", "ach"] = "wire",
    memo: str | None = None,
    tags: list[str] | None = None,
    count: int = 1,
    urgent: bool = False,
    extra: dict | None = None,
) -> dict:
    """Move money out of an account.

    Used by the tests only.

    Args:
        source: The account to debit.
        amount (float): How much, in dollars,
            with cents.
        kind: The transfer rail.
        memo: A note for the statement.
        tags: Labels to attach.
        count: How many times.
        urgent: Whether to expedite.
        extra: Free-form metadata.

    Returns:
        The new transaction.
    """
    if amount > 100:
        raise ToolError("insufficient funds")
    return {"source": source, "amount": amount}


def test_schema_from_signature_and_docstring():
    tool = tool_from_function(transfer)
    assert tool.name == "transfer"
    assert tool.description == "Move money out of an account.\n\nUsed by the tests only."
    params = tool.parameters
    assert params["required"] == ["source", "amount"]
    assert params["additionalProperties"] is False
    props = params["properties"]
    assert props["source"] == {"type": "string", "description": "The account to debit."}
    assert props["amount"] == {"type": "number", "description": "How much, in dollars, with cents."}
    assert props["kind"] == {"type": "string", "enum": ["wire", "ach"], "description": "The transfer rail."}
    assert props["memo"]["type"] == ["string", "null"]
    assert props["tags"]["type"] == ["array", "null"] and props["tags"]["items"] == {"type": "string"}
    assert props["count"]["type"] == "integer" and props["urgent"]["type"] == "boolean"
    assert props["extra"]["type"] == ["object", "null"]


def test_openai_schema_shape_and_custom_name():
    tool = tool_from_function(transfer, name="send_money")
    schema = tool.openai_schema()
    assert schema["type"] == "function"
    assert schema["function"]["name"] == "send_money"
    assert schema["function"]["parameters"] is tool.parameters


def test_validate_arguments_accepts_good_calls():
    tool = tool_from_function(transfer)
    assert validate_arguments(tool, {"source": "A1", "amount": 5}) is None  # int is a JSON number
    assert validate_arguments(tool, {"source": "A1", "amount": 5.5, "memo": None, "tags": ["x"]}) is None


def test_validate_arguments_names_every_problem():
    tool = tool_from_function(transfer)
    error = validate_arguments(tool, {"amount": "5", "kind": "swift", "colour": "red", "count": True})
    assert error is not None
    assert "'source' is a required property" in error
    assert "amount: '5' is not of type 'number'" in error
    assert "kind: 'swift' is not one of ['wire', 'ach']" in error
    assert "'colour' was unexpected" in error
    assert "count: True is not of type 'integer'" in error  # a bool is not an int in JSON schema
    assert validate_arguments(tool, ["A1"]).startswith("Arguments for tool 'transfer' must be a JSON object")


def test_tool_errors_come_from_the_function():
    tool = tool_from_function(transfer)
    with pytest.raises(ToolError, match="insufficient funds"):
        tool.fn(source="A1", amount=500)


def test_undescribable_functions_are_rejected():
    def untyped(x):
        """Doc."""

    def undocumented(x: int):
        pass

    def variadic(*args: int):
        """Doc."""

    def odd(x: set):
        """Doc."""

    def wrong_doc(x: int):
        """Doc.

        Args:
            y: Not a parameter.
        """

    with pytest.raises(ValueError, match="needs a type hint"):
        tool_from_function(untyped)
    with pytest.raises(ValueError, match="needs a docstring"):
        tool_from_function(undocumented)
    with pytest.raises(ValueError, match=r"\*args"):
        tool_from_function(variadic)
    with pytest.raises(TypeError, match="no JSON schema mapping"):
        tool_from_function(odd)
    with pytest.raises(ValueError, match="unknown parameters"):
        tool_from_function(wrong_doc)


def test_tool_checks_its_schema():
    with pytest.raises(ValueError, match="type 'object'"):
        Tool(name="t", description="d", parameters={"type": "array"})
    with pytest.raises(ValueError, match="not a valid JSON schema: 'nope' is not valid"):
        Tool(name="t", description="d", parameters={"type": "object", "properties": {"x": {"type": "nope"}}})


def test_bound_to_reuses_the_declaration():
    tool = tool_from_function(transfer)
    other = tool.bound_to(lambda **kw: "other")
    assert other.fn(source="x", amount=1) == "other" and tool.fn(source="x", amount=1)["source"] == "x"
    assert other.parameters is tool.parameters and other == tool  # fn is not part of equality
