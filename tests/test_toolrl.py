"""ToolRL format/correctness rewards and BFCL AST match, on hand-computed cases."""

from __future__ import annotations

import json

import pytest

from turngym.actions import ToolCall
from turngym.rewards.toolrl import (
    ResponseFormat,
    ast_match,
    correctness,
    correctness_reward,
    format_reward,
    match_score,
    parse_tool_calls,
    standardize_string,
    toolrl_reward,
)


def c(name, **arguments):
    return {"name": name, "arguments": arguments}


def block(call):
    return f"<tool_call>{json.dumps(call)}</tool_call>"


# -- match -------------------------------------------------------------------------------------


def test_match_is_jaccard_on_multisets():
    assert match_score([], []) == 1.0
    assert match_score(["a"], ["b"]) == 0.0
    assert match_score(["a", "a"], ["a"]) == pytest.approx(1 / 2)  # |∩|=1, 2+1-1=2
    assert match_score({"x", "y"}, {"y", "z"}) == pytest.approx(1 / 3)  # |∩|=1, 2+2-1=3


# -- correctness: hand-computed ----------------------------------------------------------------


def test_exact_match_scores_three():
    # names 1; keys {x,y} vs {x,y} = 1; values 2 → S = 4; S_max = 1 + 1 + 2 = 4; R = 6·4/4 − 3 = 3
    gold = [c("a", x=1, y="b")]
    assert correctness_reward([c("a", x=1, y="b")], gold) == pytest.approx(3.0)


def test_wrong_name_scores_minus_three():
    # names {b} vs {a}: 0/(1+1−0) = 0; no pair → S = 0; S_max = 1 + 1 + 1 = 3; R = −3
    assert correctness_reward([c("b", x=1)], [c("a", x=1)]) == pytest.approx(-3.0)


def test_one_wrong_value():
    # names 1; keys 1; values: x equal, y not → 1 → S = 3; S_max = 1 + 1 + 2 = 4; R = 6·3/4 − 3 = 1.5
    assert correctness_reward([c("a", x=1, y=3)], [c("a", x=1, y=2)]) == pytest.approx(1.5)


def test_extra_key():
    # names 1; keys {x,z} vs {x}: 1/(2+1−1) = 0.5; values: x equal → 1 → S = 2.5
    # S_max = 1 + 1 + 1 = 3; R = 6·2.5/3 − 3 = 2
    assert correctness_reward([c("a", x=1, z=5)], [c("a", x=1)]) == pytest.approx(2.0)


def test_missing_gold_call():
    # names {a} vs {a,b}: 1/(1+2−1) = 0.5; pair a: keys 1 + values 1 = 2 → S = 2.5
    # S_max = 1 + 2 + (1 + 1) = 5; R = 6·2.5/5 − 3 = 0
    assert correctness_reward([c("a", x=1)], [c("a", x=1), c("b", y=2)]) == pytest.approx(0.0)


def test_extra_predicted_call():
    # names {a,c} vs {a}: 1/(2+1−1) = 0.5; pair a: 1 + 1 = 2 → S = 2.5; S_max = 1 + 1 + 1 = 3
    # R = 6·2.5/3 − 3 = 2
    assert correctness_reward([c("a", x=1), c("c")], [c("a", x=1)]) == pytest.approx(2.0)


def test_same_name_calls_pair_by_best_score_regardless_of_order():
    # names {a,a} vs {a,a}: 2/(2+2−2) = 1; pairs g0↔p1 and g1↔p0 each 1 + 1 = 2 → S = 5
    # S_max = 1 + 2 + 2 = 5; R = 3 (a first-come pairing g0↔p0, g1↔p1 would give S = 1+1+1 = 3 → R = 0.6)
    gold = [c("a", x=1), c("a", x=2)]
    result = correctness([c("a", x=2), c("a", x=1)], gold)
    assert sorted(result.pairs) == [(0, 1, 2.0), (1, 0, 2.0)]
    assert result.reward == pytest.approx(3.0)


def test_no_calls_expected_and_none_made():
    # names ∅ vs ∅: 1; no pairs → S = 1; S_max = 1 + 0 + 0 = 1; R = 3
    assert correctness_reward([], []) == pytest.approx(3.0)
    # a call where none was expected: names 0/(1+0−0) = 0 → S = 0; S_max = 1; R = −3
    assert correctness_reward([c("a")], []) == pytest.approx(-3.0)


def test_unparseable_is_minus_three_and_types_matter():
    assert correctness_reward(None, [c("a", x=1)]) == -3.0
    # True is not 1: names 1, keys 1, values 0 → S = 2; S_max = 3; R = 6·2/3 − 3 = 1
    assert correctness_reward([c("a", x=True)], [c("a", x=1)]) == pytest.approx(1.0)
    # 1 == 1.0 numerically → R = 3
    assert correctness_reward([c("a", x=1.0)], [c("a", x=1)]) == pytest.approx(3.0)


def test_tool_call_records_are_accepted():
    assert correctness_reward([ToolCall("a", {"x": 1}, "call_0")], [c("a", x=1)]) == pytest.approx(3.0)
    with pytest.raises(TypeError, match="string name"):
        correctness_reward([{"arguments": {}}], [c("a")])


# -- format ------------------------------------------------------------------------------------


def test_format_reward_checks_the_structure():
    call = block(c("a", x=1))
    assert format_reward(f"<think>plan</think>\n{call}") == 1.0
    assert format_reward("<think>plan</think><answer>42</answer>") == 1.0
    assert format_reward(call) == 0.0  # no reasoning
    assert format_reward("<think> </think>" + call) == 0.0  # empty reasoning
    assert format_reward("<think>plan</think><tool_call>{not json}</tool_call>") == 0.0
    assert format_reward("<think>plan</think><tool_call>" + json.dumps(c("a"))) == 0.0  # unclosed
    assert format_reward("<think>plan</think> just text") == 0.0  # neither call nor answer
    assert format_reward("<think>a</think><answer>1</answer><answer>2</answer>") == 0.0


def test_format_structure_is_a_parameter():
    call = block(c("a"))
    assert format_reward(call, ResponseFormat(think=False, require="call")) == 1.0
    assert format_reward("<think>p</think><answer>x</answer>", ResponseFormat(require="call")) == 0.0
    strict = ResponseFormat(strict=True)
    assert format_reward(f"<think>p</think>{call}", strict) == 1.0
    assert format_reward(f"<think>p</think>chatter {call}", strict) == 0.0
    custom = ResponseFormat(think_tag="reasoning", answer_tag="response")
    assert format_reward("<reasoning>r</reasoning><response>ok</response>", custom) == 1.0


def test_toolrl_reward_parses_calls_from_text():
    text = "<think>p</think>" + block(c("a", x=1)) + block({"name": "b", "arguments": json.dumps({"y": 2})})
    assert parse_tool_calls(text) == [c("a", x=1), c("b", y=2)]
    assert toolrl_reward(text, [c("a", x=1), c("b", y=2)]) == {"format": 1.0, "correctness": 3.0}
    assert toolrl_reward("<think>p</think><tool_call>[1]</tool_call>", [c("a")]) == {"format": 0.0, "correctness": -3.0}


# -- BFCL AST ----------------------------------------------------------------------------------

SCHEMA = {
    "calc_area": {
        "type": "object",
        "properties": {"base": {"type": "integer"}, "height": {"type": "number"}, "unit": {"type": "string"}},
        "required": ["base", "height"],
    }
}
ANSWER = [{"calc_area": {"base": [10], "height": [5.0], "unit": ["cm", ""]}}]


def test_ast_accepts_int_for_float_and_optional_omission():
    assert ast_match([c("calc_area", base=10, height=5)], ANSWER, SCHEMA).valid
    assert ast_match([c("calc_area", base=10, height=5.0, unit="CM")], ANSWER, SCHEMA).valid


def test_ast_rejects_wrong_values_types_and_parameters():
    assert not ast_match([c("calc_area", base=10.0, height=5)], ANSWER, SCHEMA).valid  # float for int
    assert not ast_match([c("calc_area", base=11, height=5)], ANSWER, SCHEMA).valid
    result = ast_match([c("calc_area", base=10, height=5, colour="red")], ANSWER, SCHEMA)
    assert not result.valid and "unexpected parameter 'colour'" in result.errors[0]
    assert "missing required parameter 'height'" in ast_match([c("calc_area", base=10)], ANSWER, SCHEMA).errors[0]
    assert not ast_match([], ANSWER, SCHEMA).valid
    # a parameter whose acceptable values lack "" must be given
    answer = [{"f": {"x": [1], "y": [2]}}]
    assert "not provided and not optional" in ast_match([c("f", x=1)], answer).errors[0]


def test_ast_string_standardisation_lists_dicts_and_parallel_order():
    assert standardize_string("New York, NY") == "newyorkny"
    answer = [
        {"weather": {"city": ["New York, NY"], "days": [[1, 2]]}},
        {"book": {"options": [{"seat": ["window", ""], "meal": ["veg"]}]}},
    ]
    calls = [c("book", options={"meal": "VEG"}), c("weather", city="new york ny", days=(1, 2))]
    assert ast_match(calls, answer).valid
    bad = [c("book", options={"meal": "fish"}), c("weather", city="new york ny", days=[1, 2])]
    assert not ast_match(bad, answer).valid
