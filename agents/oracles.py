"""Where env families' scripted experts (oracles) are found, by family name.

turngym's own families are listed in :data:`BUILTIN_ORACLES` (so envs never import agents);
a family defined elsewhere registers its own::

    from turngym.agents.oracles import register_oracle
    register_oracle("myfamily", MyOracle)          # or "my_pkg.oracles:MyOracle"

A factory takes the env's unwrapped instance (after ``reset``, so it can read the task) and
returns an object with ``act(observation: str, info: dict) -> action``. It may be given as a
``"module:attribute"`` string, imported on first use, so registering costs nothing and the
registry can be shipped to other processes (Ray workers) as plain text.

:class:`turngym.agents.oracle.OracleAgent` looks the factory up by ``env.unwrapped.family``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Oracle(Protocol):
    def act(self, observation: str, info: dict[str, Any]) -> Any: ...


OracleFactory = Callable[[Any], Oracle]
FactorySpec = str | OracleFactory

# turngym's families, by "module:attribute" so nothing is imported until an oracle is used.
BUILTIN_ORACLES: dict[str, FactorySpec] = {
    "table": "turngym.agents.table_oracle:TableQAOracle",
    "toolcall": "turngym.agents.toolcall_oracle:ToolCallOracle",
}

_REGISTRY: dict[str, FactorySpec] = dict(BUILTIN_ORACLES)


def register_oracle(family: str, factory: FactorySpec) -> None:
    """Register (or replace) the oracle of an env family."""
    if not isinstance(family, str) or not family:
        raise ValueError(f"family must be a non-empty string, got {family!r}")
    if isinstance(factory, str):
        if ":" not in factory:
            raise ValueError(f"an oracle given by name must look like 'module:attribute', got {factory!r}")
    elif not callable(factory):
        raise TypeError(f"an oracle factory must be callable or a 'module:attribute' string, got {factory!r}")
    if family in _REGISTRY and _REGISTRY[family] is not factory:
        logger.info("replacing the oracle of family %r", family)
    _REGISTRY[family] = factory


def has_oracle(family: str) -> bool:
    return family in _REGISTRY


def get_oracle(family: str) -> OracleFactory:
    """The factory of ``family``'s oracle (imported now if it was registered by name)."""
    try:
        spec = _REGISTRY[family]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise LookupError(
            f"no oracle registered for env family {family!r} (registered: {known}); a family "
            "registers one with turngym.agents.oracles.register_oracle"
        ) from None
    if isinstance(spec, str):
        module, _, attribute = spec.partition(":")
        spec = getattr(importlib.import_module(module), attribute)
        _REGISTRY[family] = spec
    return spec


def registered_oracles() -> dict[str, FactorySpec]:
    """A copy of the registry, e.g. to install the same oracles in another process."""
    return dict(_REGISTRY)


def install_oracles(registry: dict[str, FactorySpec]) -> None:
    """Register every entry of a :func:`registered_oracles` copy (in a worker process)."""
    for family, factory in registry.items():
        _REGISTRY.setdefault(family, factory)
