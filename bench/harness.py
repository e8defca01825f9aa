"""Evaluation harness overhead: episodes against a loopback OpenAI-compatible server.

The server (a real HTTP server, in its own process so it does not share this one's GIL) answers
every request after a fixed delay, like a model's latency. An episode is three turns (two tool
calls, then the answer), so with ``k`` episodes in flight the best possible wall time is
``ceil(n / k) × 3 × delay``; the harness overhead is ``(wall − ideal) / wall``: HTTP clients,
JSON, the env protocol, the results file, thread scheduling. Target: ≤ 5% with 32 concurrent
episodes.

Side by side in one run: the harness with 32 episodes in flight vs the naive way, one episode
after another (measured on fewer episodes: it is 32× slower by construction), and the ratio of
their throughputs.
"""

from __future__ import annotations

import math
import multiprocessing
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from rich.console import Console
from rich.table import Table

from turngym.actions import ParsedAction
from turngym.agents.chat_server import ScriptedChatServer
from turngym.agents.results import ResultsFile
from turngym.agents.runner import make_jobs, run_local
from turngym.agents.spec import AgentSpec
from turngym.envs.base import Outcome, TurnEnv
from turngym.tasks.base import Task
from turngym.tools import Tool, tool_from_function

ENV_ID = "turngym-bench/Echo-v0"
TURNS = 3
WORDS = ("ping", "pong", "echo", "delta", "kilo")


@dataclass
class EchoTask(Task):
    word: str = "ping"


class EchoEnv(TurnEnv):
    """The cheapest env that still runs the whole protocol: echo a word with a tool, answer it."""

    family = "bench-echo"

    def _load_task(self, options: dict[str, Any]) -> EchoTask:
        word = WORDS[int(self.np_random.integers(len(WORDS)))]
        return EchoTask(id=f"echo-{word}", difficulty=options.get("difficulty", "easy"), word=word)

    def _begin(self, task: EchoTask) -> str:
        return f"Echo the word '{task.word}' twice with the tool, then answer with it."

    def _episode_tools(self) -> list[Tool]:
        def echo(text: str) -> str:
            """Repeat a text.

            Args:
                text: What to repeat.
            """
            return text

        return [tool_from_function(echo)]

    def _on_answer(self, answer: str, action: ParsedAction) -> Outcome:
        return Outcome(terminated=True, success=answer.strip() == self.task.word)


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point="turngym.bench.harness:EchoEnv", kwargs={"max_turns": 8})


def echo_responder(body: dict[str, Any]) -> dict[str, Any]:
    """Two native ``echo`` calls, then the answer — what a model that gets it right would send."""
    messages = body["messages"]
    word = re.search(r"'(\w+)'", next(m for m in messages if m["role"] == "user")["content"]).group(1)
    turn = sum(m["role"] == "assistant" for m in messages)
    if turn < TURNS - 1:
        call = {
            "id": f"c{turn}",
            "type": "function",
            "function": {"name": "echo", "arguments": f'{{"text": "{word}"}}'},
        }
        return {"content": None, "tool_calls": [call]}
    return {"content": f"<answer>{word}</answer>"}


def _serve(delay: float, port_pipe: Any, stop: Any) -> None:
    with ScriptedChatServer(echo_responder, delay=delay, keep_requests=False) as server:
        port_pipe.send(server.base_url)
        stop.wait()


class ServerProcess:
    """The loopback server in a child process (spawned: no threads are forked)."""

    def __init__(self, delay: float):
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        self.stop = context.Event()
        self.process = context.Process(target=_serve, args=(delay, send, self.stop), daemon=True)
        self.process.start()
        if not receive.poll(60):
            raise RuntimeError("the loopback server did not start within 60 s")
        self.base_url: str = receive.recv()

    def close(self) -> None:
        self.stop.set()
        self.process.join(10)


@dataclass
class Measurement:
    episodes: int
    concurrency: int
    wall: float
    ideal: float

    @property
    def overhead(self) -> float:
        return (self.wall - self.ideal) / self.wall

    @property
    def throughput(self) -> float:
        return self.episodes / self.wall


def measure(base_url: str, delay: float, episodes: int, concurrency: int, out: Path) -> Measurement:
    """Wall time of ``episodes`` through the real harness (agent, runner, env, results file)."""
    results = ResultsFile(out)
    results.open(resume=False)
    failures: list[Any] = []
    spec = AgentSpec("openai", "echo", base_url)
    jobs = make_jobs([ENV_ID], episodes=episodes)
    start = time.perf_counter()
    run_local(spec, jobs, concurrency=concurrency, on_record=results.append, on_failure=lambda j, e: failures.append(e))
    wall = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} bench episodes failed, e.g. {failures[0]!r}")
    records = results.records()
    if len(records) != episodes or not all(r["success"] and r["turns"] == TURNS for r in records):
        raise RuntimeError("the bench episodes did not all run their three turns and succeed")
    return Measurement(episodes, concurrency, wall, math.ceil(episodes / concurrency) * TURNS * delay)


def main(delays: tuple[float, ...] = (0.25, 1.0), episodes: int = 32, naive_episodes: int = 4) -> None:
    console = Console()
    table = Table(title=f"harness overhead: {episodes} episodes × {TURNS} turns, loopback server with a fixed delay")
    for column in ("delay", "schedule", "episodes", "wall s", "ideal s", "overhead", "episodes/s", "vs naive"):
        table.add_column(column, justify="right" if column != "schedule" else "left")
    with tempfile.TemporaryDirectory() as tmp:
        for delay in delays:
            server = ServerProcess(delay)
            try:
                files = Path(tmp) / f"delay-{delay}"
                measure(server.base_url, delay, 2, 2, files / "warm.jsonl")  # imports, first connections
                harness = measure(server.base_url, delay, episodes, episodes, files / "harness.jsonl")
                naive = measure(server.base_url, delay, naive_episodes, 1, files / "naive.jsonl")
            finally:
                server.close()
            for name, m in ((f"{episodes} in flight (threads)", harness), ("naive: one at a time", naive)):
                table.add_row(
                    f"{delay:.2f}s",
                    name,
                    str(m.episodes),
                    f"{m.wall:.2f}",
                    f"{m.ideal:.2f}",
                    f"{m.overhead:.1%}",
                    f"{m.throughput:.1f}",
                    f"{m.throughput / naive.throughput:.1f}×",
                )
    console.print(table)
    console.print("overhead = (wall − ideal) / wall, ideal = ceil(episodes / in flight) × turns × delay; target ≤ 5%")


if __name__ == "__main__":
    main()
