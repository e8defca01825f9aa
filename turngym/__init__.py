"""turngym: multi-turn agentic gymnasium environments for training and evaluating LLM agents.

Importing the package registers every env under the ``turngym/`` namespace::

    import gymnasium as gym
    import turngym  # noqa: F401

    env = gym.make("turngym/TableQA-v0")
"""

from turngym.registration import env_ids, register_envs

__version__ = "0.1.0"
__all__ = ["env_ids", "register_envs", "__version__"]

register_envs()
