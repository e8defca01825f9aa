"""Shared test set-up: the protocol's toy env is importable and registered for vector tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import gymnasium as gym

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))
# Async vector envs start subprocesses that must import the toy env too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))

if "turngym-test/Arith-v0" not in gym.registry:
    gym.register("turngym-test/Arith-v0", entry_point="toy_env:ArithEnv", kwargs={"max_turns": 6})


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
