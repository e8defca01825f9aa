"""TableQA-v0: the env on the real sandbox, real pandas and duckdb."""

from __future__ import annotations

import json
import socket
import threading

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turngym  # noqa: F401
from turngym.agents.oracles import get_oracle
from turngym.envs.table_qa import TableQAEnv

ENV_ID = "turngym/TableQA-v0"


def play_oracle(env, seed=None, options=None):
    obs, info = env.reset(seed=seed, options=options)
    oracle = get_oracle("table")(env.unwrapped)
    for _ in range(env.unwrapped.max_turns):
        obs, reward, terminated, truncated, info = env.step(oracle.act(obs, info))
        if terminated or truncated:
            return info
    raise AssertionError("episode did not end")


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID)
    yield env
    env.close()


def test_registered_under_both_names():
    for name in (ENV_ID, "turngym:turngym/TableQA-v0"):
        e = gym.make(name)
        obs, info = e.reset(seed=0)
        assert obs.startswith("Question:") and info["tools"]
        e.close()


def test_check_env():
    env = TableQAEnv()
    try:
        check_env(env)
    finally:
        env.close()


def test_first_observation_shows_schema_not_whole_tables(env):
    obs, info = env.reset(seed=3, options={"difficulty": "hard"})
    task = env.unwrapped.task
    assert task.question in obs
    for name, df in task.tables.items():
        assert f"Table `{name}`: {len(df)} rows" in obs
        for column in df.columns:
            assert str(column) in obs
    big = max(task.tables.values(), key=len)
    if len(big) > 20:
        assert len(obs) < 40 * len(big)  # a preview, not the table
    assert [t["function"]["name"] for t in info["tools"]] == ["python", "sql", "answer"]


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_oracle_wins_every_generated_task(env, difficulty):
    wins = [play_oracle(env, seed=seed, options={"difficulty": difficulty})["success"] for seed in range(12)]
    assert all(wins), wins


def test_oracle_wins_on_the_test_split(env):
    for seed in range(5):
        info = play_oracle(env, seed=seed, options={"split": "test"})
        assert info["success"] and info["episode"]["success"]


def test_tools_share_state_and_report_code_errors(env):
    env.reset(seed=1)
    name = next(iter(env.unwrapped.task.tables))
    obs, _, _, _, info = env.step(f'<tool_call>{json.dumps({"name": "python", "arguments": {"code": f"n = len({name}); n"}})}</tool_call>')
    assert str(len(env.unwrapped.task.tables[name])) in obs and info["action_valid"]
    obs, _, _, _, info = env.step(f'<tool_call>{json.dumps({"name": "sql", "arguments": {"query": f"SELECT COUNT(*) AS c FROM {name}"}})}</tool_call>')
    assert str(len(env.unwrapped.task.tables[name])) in obs
    assert info["reward_components"]["code_error"] == 0.0
    obs, reward, _, _, info = env.step('<tool_call>{"name": "sql", "arguments": {"query": "SELEC nonsense"}}</tool_call>')
    assert "[error]" in obs and info["reward_components"]["code_error"] == pytest.approx(-0.05)
    assert info["action_valid"] is True and reward == pytest.approx(-0.05)
    obs, *_ = env.step('<tool_call>{"name": "python", "arguments": {"code": "n * 2"}}</tool_call>')
    assert str(2 * len(env.unwrapped.task.tables[name])) in obs  # variables persist


def test_wrong_answer_ends_the_episode_without_success(env):
    env.reset(seed=2)
    *_, terminated, truncated, info = env.step("<answer>definitely not this</answer>")
    assert terminated and info["success"] is False and info["episode"]["return"] == 0.0


def test_seeded_determinism():
    def trace(seed):
        e = gym.make(ENV_ID)
        obs, info = e.reset(seed=seed)
        name = next(iter(e.unwrapped.task.tables))
        out = [obs, info["task_id"]]
        out.append(e.step(f'<tool_call>{{"name": "sql", "arguments": {{"query": "SELECT * FROM {name} LIMIT 3"}}}}</tool_call>')[0])
        e.close()
        return out

    assert trace(11) == trace(11)
    assert trace(11) != trace(12)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs_with_eight_episodes(mode):
    envs = gym.make_vec(ENV_ID, num_envs=8, vectorization_mode=mode)
    try:
        obs, info = envs.reset(seed=list(range(8)))
        assert len(set(info["task_id"])) > 1 and all(o.startswith("Question:") for o in obs)
        obs, rewards, terminated, truncated, info = envs.step(['<tool_call>{"name": "python", "arguments": {"code": "6 * 7"}}</tool_call>'] * 8)
        assert all("42" in o for o in obs) and not any(terminated)
        obs, rewards, terminated, truncated, info = envs.step(["<answer>?</answer>"] * 8)
        assert all(terminated)
    finally:
        envs.close()


def test_dataset_file(tmp_path):
    (tmp_path / "cities.csv").write_text("city,population\nOslo,709000\nBergen,291000\n")
    lines = [
        {"id": "q1", "question": "Which city is larger?", "answer": "Oslo", "difficulty": "easy", "tables": {"cities": "cities.csv"}},
        {"id": "q2", "question": "Total population?", "answer": 1000000, "difficulty": "medium",
         "tables": {"t": "a,b\n1,999999\n"}, "gold_sql": "SELECT a + b FROM t"},
    ]
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    env = gym.make(ENV_ID, tasks=str(path))
    try:
        obs, info = env.reset(options={"task_id": "q1"})
        assert "Oslo" in obs and info["task_id"] == "q1"
        *_, info = env.step("<answer>oslo</answer>")
        assert info["success"] is True
        info = play_oracle(env, options={"task_id": "q2"})
        assert info["success"] is True
    finally:
        env.close()
    with pytest.raises(ValueError, match="does not exist"):
        gym.make(ENV_ID, tasks=str(tmp_path / "missing.jsonl"))


def test_presets_and_bad_options():
    env = gym.make(ENV_ID, rewards="gra")
    info = play_oracle(env, seed=0)
    assert info["episode"]["return"] >= 1.0
    with pytest.raises(ValueError, match="difficulty must be one of"):
        env.reset(options={"difficulty": "extreme"})
    env.close()


@pytest.fixture()
def loopback_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    server.close()


def test_escape_attempts_through_the_python_tool_fail(env, tmp_path, loopback_server):
    port, accepted = loopback_server
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    env.reset(seed=0)
    attempts = {
        f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)": "Error",
        f"open({str(secret)!r}).read()": "Error",
        f"open({str(tmp_path / 'planted.txt')!r}, 'w').write('x')": "Error",
        "import os; os.system('touch /planted-by-agent'); open('/planted-by-agent').read()": "Error",
    }
    for code, expected in attempts.items():
        obs, *_ , info = env.step(f'<tool_call>{json.dumps({"name": "python", "arguments": {"code": code}})}</tool_call>')
        assert expected in obs and "hunter2" not in obs, (code, obs)
        assert info["reward_components"]["code_error"] < 0
    assert not accepted and not (tmp_path / "planted.txt").exists()
    obs, *_ = env.step('<tool_call>{"name": "python", "arguments": {"code": "1 + 1"}}</tool_call>')
    assert "2" in obs  # still works


fuzz_actions = st.one_of(
    st.text(max_size=120),
    st.builds(lambda code: f'<tool_call>{json.dumps({"name": "python", "arguments": {"code": code}})}</tool_call>', st.text(max_size=60)),
    st.builds(lambda q: f'<tool_call>{json.dumps({"name": "sql", "arguments": {"query": q}})}</tool_call>', st.text(max_size=60)),
    st.builds(lambda name, args: f'<tool_call>{json.dumps({"name": name, "arguments": args})}</tool_call>',
              st.sampled_from(["python", "sql", "answer", "shell", ""]),
              st.dictionaries(st.sampled_from(["code", "query", "answer", "x"]), st.one_of(st.integers(), st.text(max_size=8), st.none()))),
    st.builds(lambda body: f"<tool_call>{body}</tool_call>", st.text(max_size=40)),
    st.none(),
    st.integers(),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(action=fuzz_actions)
def test_fuzz_malformed_actions(env, action):
    if env.unwrapped._done:
        env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    assert env.observation_space.contains(obs) and isinstance(reward, float)


def test_oracle_wins_spider_tasks_in_their_sqlite_dialect(tmp_path):
    import shutil
    import sqlite3
    from pathlib import Path

    from turngym.tasks.table.loaders import load_spider

    root = tmp_path / "spider"
    shutil.copytree(Path(__file__).parent / "fixtures" / "table" / "spider", root)
    db = root / "database" / "concert_singer"
    with sqlite3.connect(db / "concert_singer.sqlite") as con:
        con.executescript((db / "schema.sql").read_text())
    source = load_spider(root, multi_column="flatten")
    env = gym.make(ENV_ID, tasks=source)
    try:
        for task in source.tasks:
            info = play_oracle(env, options={"task_id": task.id})
            assert info["success"], (task.id, info["episode"]["messages"][-3:])
    finally:
        env.close()
