"""MCPToolSource against a real stdio MCP server subprocess (tests/fixtures/tools/mcp_notes_server.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import psutil
import pytest

from turngym.tasks.mcp_tools import MCPServerError, MCPToolSource
from turngym.tools import ToolError, validate_arguments

SERVER = str(Path(__file__).parent / "fixtures" / "tools" / "mcp_notes_server.py")


def server_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if SERVER in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.fixture
def notes():
    source = MCPToolSource(sys.executable, [SERVER], {"NOTES_OWNER": "ada"}, call_timeout=30)
    yield source
    source.close()
    assert server_processes() == []


def test_tools_come_from_the_server_schema(notes):
    tools = {t.name: t for t in notes.tools()}
    assert set(tools) == {"increment", "add_note", "get_note", "owner", "sleep", "crash"}
    add_note = tools["add_note"]
    assert add_note.description == "Store a note and return its id."
    assert add_note.parameters["required"] == ["text"]
    assert add_note.parameters["properties"]["text"]["type"] == "string"
    assert validate_arguments(add_note, {"text": 3}) is not None
    assert add_note.openai_schema()["function"]["name"] == "add_note"


def test_calls_are_forwarded_and_state_persists(notes):
    assert notes.call("increment", {"by": 2}) == "2"
    tools = {t.name: t for t in notes.tools()}
    assert tools["increment"].fn(by=3) == "5"  # the Tool's fn forwards to the same server
    assert notes.call("add_note", {"text": "buy milk"}) == "note 1"
    assert notes.call("get_note", {"note_id": 1}) == "buy milk"
    assert notes.call("owner") == "ada"  # the env reached the subprocess


def test_tool_failures_are_tool_errors(notes):
    with pytest.raises(ToolError, match="no note 7"):
        notes.call("get_note", {"note_id": 7})
    with pytest.raises(ToolError, match="Unknown tool"):
        notes.call("no_such_tool", {})
    assert notes.call("increment") == "1"  # the session is still fine


def test_a_slow_call_times_out_clearly(notes):
    with pytest.raises(MCPServerError, match=r"tools/call sleep timed out after 0.2s"):
        notes.call("sleep", {"seconds": 2}, timeout=0.2)


def test_a_dead_server_is_a_clear_error_and_leaves_nothing_running(notes):
    assert len(server_processes()) == 1
    with pytest.raises(MCPServerError, match="is gone") as info:
        notes.call("crash")
    assert "crashing on purpose" in str(info.value)  # the server's stderr tail
    assert not notes.alive
    with pytest.raises(MCPServerError, match="session is closed"):
        notes.call("increment")
    assert server_processes() == []


def test_close_is_idempotent_and_stops_the_server():
    with MCPToolSource(sys.executable, [SERVER]) as source:
        assert source.alive and len(server_processes()) == 1
    assert not source.alive and server_processes() == []
    source.close()


def test_a_server_that_cannot_start_says_why():
    with pytest.raises(MCPServerError, match="did not start: FileNotFoundError"):
        MCPToolSource("/nonexistent/mcp-server")
    with pytest.raises(MCPServerError, match=r"did not start(.|\n)*not an mcp server"):
        MCPToolSource(sys.executable, ["-c", "import sys; print('not an mcp server', file=sys.stderr)"])
