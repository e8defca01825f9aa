"""BFCL, xLAM and ToolACE loaders on small hand-written fixtures in each format."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from turngym.tasks.base import DatasetSource
from turngym.tasks.tool_datasets import (
    DatasetFormatError,
    json_schema_from_python_type,
    load_bfcl,
    load_toolace,
    load_xlam,
    parse_call_list,
    score_calls,
)
from turngym.tools import validate_arguments

FIXTURES = Path(__file__).parent / "fixtures" / "tools"
BFCL_Q, BFCL_A = FIXTURES / "bfcl_questions.jsonl", FIXTURES / "bfcl_possible_answers.jsonl"


def c(name, **arguments):
    return {"name": name, "arguments": arguments}


@pytest.fixture(scope="module")
def bfcl():
    return {t.id: t for t in load_bfcl(BFCL_Q, BFCL_A)}


# -- BFCL --------------------------------------------------------------------------------------


def test_bfcl_tasks_have_messages_tools_and_gold(bfcl):
    assert sorted(bfcl) == [
        "bfcl-irrelevance_3",
        "bfcl-multiple_4",
        "bfcl-parallel_2",
        "bfcl-parallel_multiple_1",
        "bfcl-simple_0",
    ]
    simple = bfcl["bfcl-simple_0"]
    assert simple.difficulty == "easy" and simple.split == "test" and simple.meta["category"] == "simple"
    assert simple.instruction.startswith("What is the area") and simple.messages == []
    (tool,) = simple.tools
    assert tool.fn is None and tool.name == "geometry.triangle_area"
    assert tool.parameters["properties"]["height"]["type"] == "number"  # BFCL "float"
    assert tool.parameters["type"] == "object"  # BFCL "dict"
    assert simple.gold_turns == [[c("geometry.triangle_area", base=12, height=7.0)]]  # optional unit left out
    multiple = bfcl["bfcl-multiple_4"]
    assert multiple.messages == [{"role": "system", "content": "You are a travel assistant."}]
    assert bfcl["bfcl-parallel_2"].tools[0].parameters["properties"]["days"] == {
        "type": "array",
        "items": {"type": "integer"},
        "description": "Day offsets.",
    }  # BFCL "tuple"
    assert bfcl["bfcl-parallel_multiple_1"].difficulty == "hard"
    assert bfcl["bfcl-parallel_multiple_1"].instruction.startswith("Book a table")  # plain-string question


def test_bfcl_gold_scores_full_marks_and_validates(bfcl):
    for task in bfcl.values():
        assert score_calls(task, task.gold_calls) == {"toolrl_correctness": 3.0, "ast_match": 1.0}
        tools = {t.name: t for t in task.tools}
        for call in task.gold_calls:
            assert validate_arguments(tools[call["name"]], call["arguments"]) is None


def test_bfcl_ast_is_lenient_where_bfcl_is(bfcl):
    simple = bfcl["bfcl-simple_0"]
    ok = score_calls(simple, [c("geometry.triangle_area", base=12, height=7, unit="Square Metres")])
    assert ok["ast_match"] == 1.0 and ok["toolrl_correctness"] < 3.0  # ToolRL is exact; AST normalises
    assert score_calls(simple, [c("geometry.triangle_area", base=12, height=8)])["ast_match"] == 0.0
    parallel = bfcl["bfcl-parallel_2"]
    assert (
        score_calls(parallel, [c("weather_now", city="porto, portugal"), c("weather_now", city="Lisbon")])["ast_match"]
        == 1.0
    )
    irrelevant = bfcl["bfcl-irrelevance_3"]
    assert irrelevant.gold_turns == [] and irrelevant.possible_answer == []
    assert score_calls(irrelevant, []) == {"toolrl_correctness": 3.0, "ast_match": 1.0}
    assert score_calls(irrelevant, [c("weather_now", city="Arrakis")]) == {"toolrl_correctness": -3.0, "ast_match": 0.0}
    assert score_calls(irrelevant, None) == {"toolrl_correctness": -3.0, "ast_match": 0.0}


def test_bfcl_bad_input_is_a_clear_error(tmp_path, caplog):
    missing = tmp_path / "answers.jsonl"
    missing.write_text(BFCL_A.read_text().splitlines()[0] + "\n")
    with pytest.raises(DatasetFormatError, match="multiple_4: no possible answer"):
        load_bfcl(BFCL_Q, missing)
    record = json.loads(BFCL_Q.read_text().splitlines()[0])
    bad = tmp_path / "q.jsonl"
    bad.write_text(
        json.dumps({**record, "question": [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]})
        + "\n"
        + json.dumps(
            {
                **record,
                "id": "simple_9",
                "function": [{"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "HashMap"}}}}],
            }
        )
        + "\n"
        + json.dumps({**record, "id": "simple_1"})
        + "\n"
    )
    with pytest.raises(DatasetFormatError, match="only single-turn"):
        load_bfcl(bad)
    with caplog.at_level(logging.WARNING):
        kept = load_bfcl(bad, on_error="skip")
    assert [t.id for t in kept] == ["bfcl-simple_1"] and "skipped 2 malformed records" in caplog.text
    assert "unknown parameter type 'HashMap'" in caplog.text


def test_dataset_tasks_play_in_a_dataset_source(bfcl):
    source = DatasetSource(bfcl.values())
    assert source.sample(np.random.default_rng(0), difficulty="hard").id == "bfcl-parallel_multiple_1"
    with pytest.raises(ValueError, match="no tool worlds"):
        bfcl["bfcl-simple_0"].build_worlds()
    assert bfcl["bfcl-simple_0"].available_tools() == bfcl["bfcl-simple_0"].tools


# -- xLAM --------------------------------------------------------------------------------------


def test_xlam_tools_types_and_gold():
    tasks = {t.id: t for t in load_xlam(FIXTURES / "xlam.json")}
    assert [t.difficulty for t in tasks.values()] == ["medium", "easy", "hard"]  # by call count
    first = tasks["xlam-0"]
    multiples = first.tools[0].parameters
    assert multiples["required"] == ["number"]  # "int, optional" with a default is optional
    assert multiples["properties"]["count"] == {"type": "integer", "description": "How many multiples.", "default": 10}
    assert first.gold_turns == [[c("multiples", number=7, count=5), c("is_perfect_square", num=49)]]
    merge = tasks["xlam-1"].tools[0].parameters["properties"]
    assert merge["list1"]["items"] == {"type": "integer"} and merge["options"]["type"] == "object"
    assert merge["callback"] == {"description": "Called per item. (type: Callable)"}  # kept, unconstrained
    for task in tasks.values():
        assert score_calls(task, task.gold_calls) == {"toolrl_correctness": 3.0}


def test_python_type_strings():
    assert json_schema_from_python_type("List[str]") == {"type": "array", "items": {"type": "string"}}
    assert json_schema_from_python_type("Tuple[int, int]") == {"type": "array", "items": {"type": "integer"}}
    assert json_schema_from_python_type("Tuple[int, str]") == {"type": "array"}
    assert json_schema_from_python_type("int or float") == {"anyOf": [{"type": "integer"}, {"type": "number"}]}
    assert json_schema_from_python_type("Optional[str]") == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert json_schema_from_python_type("set") is None


def test_xlam_bad_json_field(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"id": 5, "query": "q", "tools": "[{", "answers": "[]"}]))
    with pytest.raises(DatasetFormatError, match="'tools' is not valid JSON"):
        load_xlam(path)


# -- ToolACE -----------------------------------------------------------------------------------


def test_toolace_one_task_per_calling_turn():
    tasks = load_toolace(FIXTURES / "toolace.json")
    assert [t.id for t in tasks] == ["toolace-0-1", "toolace-0-5", "toolace-0-7"]  # the joke dialogue has no calls
    first, second, chained = tasks
    assert [t.name for t in first.tools] == ["Market Trends API", "stock_quote"]
    assert first.tools[0].parameters["type"] == "object"
    assert first.gold_turns == [
        [c("Market Trends API", country="us", limit=3), c("stock_quote", symbol="AAPL", extended=True)]
    ]
    assert first.messages == [] and first.instruction.startswith("What's happening")
    # earlier calls become OpenAI tool calls, their results tool messages, split per call
    assert second.instruction == "And MSFT, please."
    roles = [m["role"] for m in second.messages]
    assert roles == ["user", "assistant", "tool", "tool", "assistant"]
    assert second.messages[2]["tool_call_id"] == second.messages[1]["tool_calls"][0]["id"]
    # a call that follows a tool result in the same request keeps that exchange as followup
    assert chained.instruction == "And MSFT, please." and [m["role"] for m in chained.followup] == ["assistant", "tool"]
    assert chained.gold_calls == [c("Market Trends API", country="us, ca")]
    for task in tasks:
        assert score_calls(task, task.gold_calls)["toolrl_correctness"] == 3.0


def test_call_list_parsing():
    text = '[Get Data(q="a, b", opts={"k": [1, 2]}, flag=false), second(x=None, y=-1.5), third()]'
    assert parse_call_list(text) == [
        c("Get Data", q="a, b", opts={"k": [1, 2]}, flag=False),
        c("second", x=None, y=-1.5),
        c("third"),
    ]
    with pytest.raises(DatasetFormatError, match="positional"):
        parse_call_list("[f(1)]")
    with pytest.raises(DatasetFormatError, match="not a literal"):
        parse_call_list("[f(x=g())]")


def test_toolace_needs_its_function_list(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"system": "You are helpful.", "conversations": []}]))
    with pytest.raises(DatasetFormatError, match="no function list"):
        load_toolace(path)
