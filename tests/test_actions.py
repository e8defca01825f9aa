"""The shared action parser: text and OpenAI messages, never an exception."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from turngym.actions import parse_action


def test_text_tool_calls_answer_and_think():
    text = (
        "<think>add first</think>ok "
        '<tool_call>{"name": "add", "arguments": {"x": 1, "y": 2}}</tool_call>'
        '<tool_call>[{"name": "a", "arguments": {}}, {"name": "b", "arguments": "{\\"k\\": 1}"}]</tool_call>'
        "<answer> 3 </answer>"
    )
    p = parse_action(text, call_prefix="call_7")
    assert p.errors == []
    assert [(c.name, c.arguments, c.id) for c in p.tool_calls] == [
        ("add", {"x": 1, "y": 2}, "call_7_0"),
        ("a", {}, "call_7_1"),
        ("b", {"k": 1}, "call_7_2"),
    ]
    assert p.answer == "3"
    assert p.think == "add first"
    assert "<tool_call>" not in p.content and "<think>" not in p.content


def test_openai_message_with_native_calls():
    msg = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "abc", "type": "function", "function": {"name": "f", "arguments": '{"q": [1, 2]}'}},
            {"type": "function", "function": {"name": "g", "arguments": ""}},
        ],
        "logprobs": {"policy": -1.0, "reference": -2.0},
    }
    p = parse_action(msg, call_prefix="call_0")
    assert p.errors == []
    assert [(c.name, c.arguments, c.id) for c in p.tool_calls] == [("f", {"q": [1, 2]}, "abc"), ("g", {}, "call_0_1")]
    assert p.logprobs == {"policy": -1.0, "reference": -2.0}
    assert p.message()["tool_calls"][0]["function"]["arguments"] == json.dumps({"q": [1, 2]})


def test_content_parts_are_joined():
    p = parse_action({"content": [{"type": "text", "text": "<answer>"}, {"type": "text", "text": "5</answer>"}]})
    assert p.answer == "5" and p.errors == []


def test_errors_are_precise():
    cases = {
        "<tool_call>{nope}</tool_call>": "not valid JSON",
        '<tool_call>{"arguments": {}}</tool_call>': '{"name": "tool"',
        '<tool_call>{"name": "f", "arguments": [1]}</tool_call>': "must be a JSON object",
        "<tool_call>{": "not closed",
        "<answer>4": "<answer> tag is not closed",
        "<think>hm": "<think> tag is not closed",
        "   ": "empty",
    }
    for text, expected in cases.items():
        p = parse_action(text)
        assert p.errors and expected in " ".join(p.errors), (text, p.errors)
    assert "not int" in parse_action(5).errors[0]
    assert "tool_calls[0]" in parse_action({"tool_calls": [{"function": {"name": "f", "arguments": "{x"}}]}).errors[0]
    assert "must be a list" in parse_action({"tool_calls": "f()"}).errors[0]


def test_no_answer_tag_when_env_has_none():
    p = parse_action("<answer>1</answer>", answer_tag=None)
    assert p.answer is None and p.errors == []


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.dictionaries(st.text(max_size=12), st.recursive(st.none() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c)))))
def test_parser_never_raises(action):
    p = parse_action(action)
    assert isinstance(p.errors, list)
