"""Agents on the toy env: random (schema-valid, seeded), oracle (registry), conversation, budget cap."""

from __future__ import annotations

import json
from typing import Literal

import gymnasium as gym
import jsonschema
import numpy as np
import pytest

from turngym.actions import parse_action
from turngym.agents.chat import completion_cap
from turngym.agents.conversation import Conversation
from turngym.agents.oracle import OracleAgent
from turngym.agents.oracles import get_oracle, has_oracle, register_oracle, registered_oracles
from turngym.agents.random_agent import RandomAgent, random_from_schema
from turngym.agents.runner import Episode, EpisodeJob, agent_seed, make_jobs
from turngym.tools import tool_from_function

import fixtures.arith  # noqa: F401  (registers the Arith oracle)

ENV = "turngym-test/Arith-v0"


def book(
    city: str,
    nights: int,
    room: Literal["single", "double"] = "single",
    budget: float | None = None,
    guests: list[str] | None = None,
    extras: dict[str, int] | None = None,
) -> str:
    """Book a hotel.

    Args:
        city: Where.
        nights: How many nights.
        room: The room kind.
        budget: Most to spend.
        guests: Who stays.
        extras: Extra items and counts.
    """
    return "ok"


SCHEMAS = [
    tool_from_function(book).parameters,
    {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 5, "maximum": 7},
            "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "big": {"type": "integer", "minimum": 1000},
            "neg": {"type": "integer", "exclusiveMaximum": -50},
            "code": {"type": "string", "minLength": 12, "maxLength": 14},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 2, "maxItems": 2},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "nested": {"type": "object", "properties": {"deep": {"type": "boolean"}}, "required": ["deep"]},
            "fixed": {"const": "v1"},
        },
        "required": ["n", "x", "big", "neg", "code", "tags", "either", "nested", "fixed"],
        "additionalProperties": False,
    },
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=["from_function", "bounds"])
def test_random_arguments_fit_their_schema(schema):
    validator = jsonschema.Draft202012Validator(schema)
    rng = np.random.default_rng(0)
    for _ in range(300):
        value = random_from_schema(schema, rng)
        errors = [e.message for e in validator.iter_errors(value)]
        assert not errors, (value, errors)


def play(env, agent, seed):
    obs, info = env.reset(seed=seed)
    agent.reset(info, seed=seed)
    actions, infos = [], []
    while True:
        action = agent.act(obs, info)
        obs, _, terminated, truncated, info = env.step(action)
        actions.append(action)
        infos.append(info)
        if terminated or truncated:
            return actions, infos


def test_random_agent_is_seeded_and_its_tool_calls_are_valid():
    env = gym.make(ENV)
    agent = RandomAgent()
    runs = {seed: play(env, agent, seed)[0] for seed in range(20)}
    assert play(env, agent, 3)[0] == runs[3]  # the seed fixes the episode
    assert len({json.dumps(a) for a in runs.values()}) > 10  # and different seeds differ
    calls = 0
    for seed in range(40):
        for action, info in zip(*play(env, agent, seed)):
            parsed = parse_action(action)
            if parsed.tool_calls:
                calls += 1
                assert info["error"] != "invalid_tool_call", (action, info)
    assert calls > 20


def test_random_agent_rejects_bad_probabilities():
    with pytest.raises(ValueError, match="probabilities"):
        RandomAgent(p_tool=0.9, p_answer=0.5)


def test_oracle_agent_wins_through_the_registry():
    env = gym.make(ENV)
    agent = OracleAgent(env)
    for seed in range(10):
        _, infos = play(env, agent, seed)
        assert infos[-1]["episode"]["success"] is True
    assert isinstance(OracleAgent().fork(env), OracleAgent)


def test_oracle_lookup_errors_say_what_is_registered():
    assert has_oracle("test")
    with pytest.raises(LookupError, match="no oracle registered for env family 'nope'.*test"):
        get_oracle("nope")
    with pytest.raises(ValueError, match="module:attribute"):
        register_oracle("x", "not-a-path")
    with pytest.raises(TypeError):
        register_oracle("x", 42)
    with pytest.raises(RuntimeError, match="no env"):
        OracleAgent().reset({"messages": []})


def test_oracle_given_by_name_is_imported_on_first_use():
    register_oracle("test-by-name", "fixtures.arith:ArithOracle")
    try:
        assert registered_oracles()["test-by-name"] == "fixtures.arith:ArithOracle"
        assert get_oracle("test-by-name") is fixtures.arith.ArithOracle
    finally:
        from turngym.agents import oracles

        oracles._REGISTRY.pop("test-by-name")


def test_conversation_modes():
    env = gym.make(ENV)
    obs, info = env.reset(seed=0)
    native = Conversation(info, "native")
    text = Conversation(info, "text")
    assert native.messages == info["messages"]
    assert "<tools>" in text.messages[0]["content"] and '"name": "add"' in text.messages[0]["content"]
    assert text.messages[0]["content"].startswith(info["instructions"])
    reply = {"role": "assistant", "content": '<tool_call>{"name": "add", "arguments": {"x": 1, "y": 2}}</tool_call>'}
    obs, _, _, _, step_info = env.step(reply["content"])
    for conversation in (native, text):
        conversation.add_reply(reply)
        conversation.add_observation(obs, step_info)
    assert native.messages[-1]["role"] == "tool" and native.messages[-1]["content"] == "3"
    assert text.messages[-1] == {"role": "user", "content": obs}
    with pytest.raises(ValueError, match="assistant"):
        native.add_reply({"role": "user", "content": "x"})
    with pytest.raises(ValueError, match="tool mode"):
        Conversation(info, "xml")


def test_completion_cap_respects_the_budget():
    assert completion_cap(512, None, 10_000) == 512
    assert completion_cap(512, 1000, 100) == 512
    assert completion_cap(512, 1000, 900) == 100
    assert completion_cap(512, 1000, 1200) == 1  # over budget: still answer, the env truncates


def test_jobs_and_seeds():
    jobs = make_jobs(["a", "b"], episodes=3, seed=10, samples=2, difficulties=["easy", "hard"])
    assert len(jobs) == 2 * 2 * 3 * 2 and len({j.key("x") for j in jobs}) == len(jobs)
    assert jobs[0] == EpisodeJob("a", 10, 0, "easy")
    assert agent_seed(1, 0) == agent_seed(1, 0) != agent_seed(1, 1)
    with pytest.raises(ValueError):
        make_jobs(["a"], episodes=0)


def test_episode_record_has_what_results_need():
    env = gym.make(ENV)
    record = Episode(env, OracleAgent(env), EpisodeJob(ENV, 5, 1, "medium")).play()
    assert record["success"] and record["difficulty"] == record["difficulty_option"] == "medium"
    assert (record["seed"], record["sample"], record["agent"], record["turns"]) == (5, 1, "oracle", 3)
    assert len(record["rewards"]) == len(record["components"]) == 3
    assert record["return"] == pytest.approx(sum(record["rewards"]))
    assert record["prompt_tokens"] is None and record["tokens"] > 0 and record["errors"] == []
