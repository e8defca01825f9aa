"""turngym.agents: policies that play turngym envs, and ``turngym eval``.

- :mod:`~turngym.agents.base` — the :class:`Agent` interface (``reset``, ``act``, ``act_batch``, ``fork``);
- :mod:`~turngym.agents.random_agent`, :mod:`~turngym.agents.oracle` (+ the family registry in
  :mod:`~turngym.agents.oracles`) — the baselines;
- :mod:`~turngym.agents.react` (any OpenAI-compatible endpoint) and :mod:`~turngym.agents.hf`
  (a local checkpoint), over :mod:`~turngym.agents.chat` and :mod:`~turngym.agents.conversation`;
- :mod:`~turngym.agents.runner`, :mod:`~turngym.agents.ray_backend`, :mod:`~turngym.agents.results`
  and :mod:`~turngym.agents.evaluate` — running episodes, storing and summarising them, the CLI.

Nothing heavy (openai, torch, ray) is imported until the agent that needs it is built.
"""
