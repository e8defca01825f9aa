"""OracleAgent: the env family's scripted expert, as an agent.

The upper line of every baseline table: if the oracle does not win, the env (or its grader) is
broken, not the model. It needs the env itself (to read the task), so an oracle agent is made for
one env — ``OracleAgent(env)``, or ``OracleAgent().fork(env)`` from a prototype — and looks the
family's oracle up in :mod:`turngym.agents.oracles` by ``env.unwrapped.family``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from turngym.agents.base import Action, Agent
from turngym.agents.oracles import OracleFactory, get_oracle


class OracleAgent(Agent):
    name = "oracle"

    def __init__(self, env: gym.Env | None = None):
        super().__init__()
        self.env = env
        self._factory: OracleFactory | None = None
        if env is not None:  # fail now, not at the first reset
            self._factory = get_oracle(getattr(env.unwrapped, "family", ""))
        self._oracle: Any = None

    def _start(self, info: dict[str, Any], seed: int | None) -> None:
        if self.env is None or self._factory is None:
            raise RuntimeError("this OracleAgent has no env: make one with OracleAgent(env) or fork(env)")
        self._oracle = self._factory(self.env.unwrapped)

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        if self._oracle is None:
            raise RuntimeError("call reset(info) after env.reset() before act()")
        return self._oracle.act(observation, info)

    def fork(self, env: gym.Env | None = None) -> OracleAgent:
        return OracleAgent(env if env is not None else self.env)
