"""The turngym CLI: list and play (eval has its own tests)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from turngym.cli import _typed_action, app
from turngym.registration import ENVS

runner = CliRunner()


def test_list_shows_every_registered_env():
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == [e.id for e in ENVS]
    table = next(r for r in rows if r["id"] == "turngym/TableQA-v0")
    assert table["tools"] == ["python", "sql", "answer"] and "success×1" in table["rewards"]


def test_play_an_episode_at_the_terminal():
    lines = [
        '{"name": "add", "arguments": {"x": 2, "y": 3}}',
        '{"name": "mul", "arguments": {"x": 5, "y": 4}}',
        "<answer>20</answer>",
    ]
    result = runner.invoke(app, ["play", "turngym-test/Arith-v0", "--task-id", "arith-2-3-4"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "Correct." in result.output and "success=True" in result.output


def test_typed_action():
    assert _typed_action('{"name": "f", "arguments": {}}') == '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
    assert _typed_action("{not json") == "{not json"
    assert _typed_action("hello") == "hello"
