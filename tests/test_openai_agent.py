"""ReActAgent against a real loopback HTTP server speaking the OpenAI chat-completions API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import openai
import pytest

from turngym.agents.react import ReActAgent

import fixtures.arith  # noqa: F401  (registers the Arith env and oracle)
from fixtures.openai_server import arith_server

ENV = "turngym-test/Arith-v0"
TURNGYM = str(Path(sys.executable).parent / "turngym")


def play(env, agent, seed):
    obs, info = env.reset(seed=seed)
    agent.reset(info, seed=seed)
    while True:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            return info["episode"]


def assert_prefixes(requests):
    """Each request's messages start with the previous request's messages (one episode)."""
    for before, after in zip(requests, requests[1:]):
        assert after["messages"][: len(before["messages"])] == before["messages"]
        assert len(after["messages"]) > len(before["messages"])


def test_native_tool_calls_solve_the_task_and_history_is_a_prefix():
    with arith_server(native_tools=True) as server:
        agent = ReActAgent("arith-solver", base_url=server.base_url)
        episode = play(gym.make(ENV), agent, seed=4)
        requests = list(server.requests)
    assert episode["success"] and episode["turns"] == 3 and episode["tool_calls"] == 2
    assert all(r["tools"] and r["model"] == "arith-solver" for r in requests)
    assert_prefixes(requests)
    # The assistant's native tool call and the env's tool message follow it, ids matching.
    second = requests[1]["messages"]
    assert second[2]["tool_calls"][0]["id"] == "srv_0" and second[3] == {
        "role": "tool",
        "tool_call_id": "srv_0",
        "name": "add",
        "content": second[3]["content"],
    }
    assert [u.prompt_tokens for u in agent.usage] == sorted(u.prompt_tokens for u in agent.usage)
    assert all(u.completion_tokens > 0 for u in agent.usage) and len(agent.usage) == 3


def test_server_without_tools_falls_back_to_text_tool_calls():
    with arith_server(native_tools=False) as server:
        agent = ReActAgent("arith-solver", base_url=server.base_url)
        env = gym.make(ENV)
        episodes = [play(env, agent, seed) for seed in range(3)]
        # A fork learns from the first agent: it never sends tools again.
        fork_episode = play(env, agent.fork(), 7)
        requests = list(server.requests)
    assert all(e["success"] for e in [*episodes, fork_episode])
    assert not any("tools" in r for r in requests)  # the rejected request is not kept
    system = requests[0]["messages"][0]["content"]
    assert "<tools>" in system and '"name": "mul"' in system
    assert_prefixes(requests[:3])
    assert requests[1]["messages"][-1]["role"] == "user" and "<tool_response" in requests[1]["messages"][-1]["content"]


def test_tool_mode_flags():
    with arith_server(native_tools=True) as server:
        agent = ReActAgent("arith-solver", base_url=server.base_url, tool_mode="text")
        assert play(gym.make(ENV), agent, 1)["success"]
        assert not any("tools" in r for r in server.requests)
    with arith_server(native_tools=False) as server:
        agent = ReActAgent("arith-solver", base_url=server.base_url, tool_mode="native", max_retries=0)
        with pytest.raises(openai.BadRequestError):
            play(gym.make(ENV), agent, 1)
    with pytest.raises(ValueError, match="tool_mode"):
        ReActAgent("m", base_url="http://127.0.0.1:9/v1", tool_mode="xml")


def test_completion_tokens_are_capped_by_the_remaining_budget():
    env = gym.make(ENV, max_tokens=40)
    with arith_server() as server:
        agent = ReActAgent("arith-solver", base_url=server.base_url, max_tokens=1000)
        play(env, agent, seed=2)
        caps = [r["max_tokens"] for r in server.requests]
    spent = [u.completion_tokens for u in agent.usage]
    assert caps[0] == 40
    assert caps[1:] == [max(1, 40 - sum(spent[: i + 1])) for i in range(len(caps) - 1)]


def test_turngym_eval_with_an_openai_endpoint(tmp_path):
    out = tmp_path / "r.jsonl"
    with arith_server() as server:
        proc = subprocess.run(
            [
                TURNGYM, "eval", "--env", f"fixtures.arith:{ENV}", "--agent", "openai", "--model", "arith-solver",
                "--base-url", server.base_url, "--episodes", "6", "--samples", "2", "--concurrency", "4",
                "--out", str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
        served = len(server.requests)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 12 and all(r["success"] and r["agent"] == "openai:arith-solver" for r in records)
    assert served == 12 * 3
    assert all(r["prompt_tokens"] > 0 and r["completion_tokens"] > 0 and len(r["turn_usage"]) == 3 for r in records)
    assert "openai:arith-solver" in proc.stdout and "@2 1.00" in proc.stdout


def test_a_server_that_wants_max_completion_tokens_is_followed():
    with arith_server(token_param="max_completion_tokens") as server:
        agent = ReActAgent("arith-solver", base_url=server.base_url)
        episode = play(gym.make(ENV), agent, seed=2)
        requests = list(server.requests)
    assert episode["success"]
    assert requests and all("max_tokens" not in r and r["max_completion_tokens"] > 0 for r in requests)
