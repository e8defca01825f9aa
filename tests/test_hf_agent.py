"""HFAgent on a tiny randomly initialised checkpoint built offline inside the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from turngym.agents.base import TurnUsage
from turngym.agents.hf import HFAgent
from turngym.agents.tiny_model import build_tiny_checkpoint, ensure_tiny_checkpoint

import fixtures.arith  # noqa: F401  (registers the Arith env and oracle)

ENV = "turngym-test/Arith-v0"
TURNGYM = str(Path(sys.executable).parent / "turngym")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny")


def test_the_tiny_checkpoint_is_small_and_complete(checkpoint):
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(checkpoint, local_files_only=True)
    assert (config.hidden_size, config.num_hidden_layers) == (32, 2)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    text = "é ° € 中 <tool_call>{}</tool_call>"
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text  # byte-level: no unknowns
    assert ensure_tiny_checkpoint(checkpoint) == checkpoint  # present: not rebuilt


def test_hf_agent_plays_and_its_token_history_only_grows(checkpoint):
    env = gym.make(ENV)
    agent = HFAgent(checkpoint, max_tokens=24, temperature=1.0)
    obs, info = env.reset(seed=0)
    agent.reset(info, seed=0)
    first_prompt = agent._model.render(info["messages"], info["tools"], generation_prompt=True)
    snapshots = []
    while True:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        snapshots.append(list(agent.ids))
        if terminated or truncated:
            break
    tokenizer = agent._model.tokenizer
    assert tokenizer.decode(snapshots[0][: agent.usage[0].prompt_tokens]) == first_prompt
    for before, after in zip(snapshots, snapshots[1:]):
        assert after[: len(before)] == before
    for turn, usage in enumerate(agent.usage):
        assert 1 <= usage.completion_tokens <= 24
        if turn:
            assert usage.prompt_tokens > len(snapshots[turn - 1]) - 1
    assert info["episode"]["turns"] == len(agent.usage)


def test_token_history_matches_the_chat_template_for_well_formed_replies(checkpoint):
    """Replies the template can show as written: the appended tokens spell the template's text."""
    env = gym.make(ENV)
    agent = HFAgent(checkpoint)
    model = agent._model
    obs, info = env.reset(seed=1)
    agent.reset(info, seed=1)
    for reply in ['<tool_call>{"name": "add", "arguments": {"x": 1, "y": 2}}</tool_call>', "<answer>3</answer>"]:
        agent.observe(obs, info)
        agent._sync_prompt()
        text = agent._add_reply_tokens(model.encode(reply) + [model.eos_ids[0]])
        assert text == reply
        agent.record({"role": "assistant", "content": text}, TurnUsage(len(agent.ids), 0))
        obs, _, terminated, truncated, info = env.step(text)
    rendered = model.render(agent.conversation.messages[: agent._rendered_upto], agent.conversation.tools, False)
    assert model.tokenizer.decode(agent.ids) + "\n" == rendered


def test_act_batch_answers_every_fork_in_one_call(checkpoint):
    prototype = HFAgent(checkpoint, max_tokens=16, temperature=0.0)
    envs = [gym.make(ENV) for _ in range(3)]
    agents = [prototype.fork(env) for env in envs]
    observations, infos = [], []
    tasks = ["arith-1-2-3", "arith-123456-654321-999999", "arith-10-2000000-3"]  # prompts of different lengths
    for seed, (env, agent, task) in enumerate(zip(envs, agents, tasks)):
        obs, info = env.reset(seed=seed, options={"task_id": task})
        agent.reset(info, seed=seed)
        observations.append(obs)
        infos.append(info)
    actions = HFAgent.act_batch(agents, observations, infos)
    assert len(actions) == 3 and all(isinstance(a, str) for a in actions)
    assert all(len(a.usage) == 1 and a.usage[0].completion_tokens <= 16 for a in agents)
    assert len({a.usage[0].prompt_tokens for a in agents}) > 1  # different lengths, padded together
    with pytest.raises(ValueError, match="forks of one HFAgent"):
        HFAgent.act_batch([agents[0], HFAgent(checkpoint)], observations[:2], infos[:2])


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a Hugging Face checkpoint"):
        HFAgent(tmp_path)


def test_turngym_eval_with_a_local_checkpoint(tmp_path, checkpoint):
    out = tmp_path / "hf.jsonl"
    proc = subprocess.run(
        [
            TURNGYM, "eval", "--env", f"fixtures.arith:{ENV}", "--agent", "hf", "--model", str(checkpoint),
            "--episodes", "4", "--concurrency", "3", "--max-tokens", "16", "--out", str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4 and {r["agent"] for r in records} == {"hf:tiny"}
    for record in records:
        assert record["turns"] == len(record["turn_usage"]) >= 1
        assert record["prompt_tokens"] > 0 and 0 < record["completion_tokens"] <= 16 * record["turns"]


def test_generate_splits_batches_to_bound_attention_memory(checkpoint, monkeypatch):
    import turngym.agents.hf as hf

    model = HFAgent(checkpoint)._model
    prompts = [model.encode("x" * n) for n in (30, 5, 60, 12)]  # not sorted by length
    greedy = {"do_sample": False}
    monkeypatch.setattr(hf, "ATTENTION_BYTES", 1)  # every prompt alone
    assert [len(c) for c in model._chunks([1, 3, 0, 2], prompts, 8)] == [1, 1, 1, 1]
    alone = model.generate(prompts, [8, 3, 8, 5], greedy, seed=None)
    assert alone == [model._generate([p], [cap], greedy)[0] for p, cap in zip(prompts, [8, 3, 8, 5])]
    monkeypatch.setattr(hf, "ATTENTION_BYTES", 1 << 40)
    assert [len(c) for c in model._chunks([1, 3, 0, 2], prompts, 8)] == [4]
