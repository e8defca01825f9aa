"""Reward functions written as code (Text2Reward-style), run in a fresh sandbox child.

The source is Python that defines ``def reward(ctx) -> float``; it may come from an LLM or a
user, so it runs in a forked, confined child like any agent cell, never in the trainer. Each call
gets a fresh child, so one reward evaluation can't leave state for the next. The context travels
as JSON (a plain dict in the child) and the reward comes back as the ``repr`` of a float, which
round-trips exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from turngym.sandboxes.base import SandboxError
from turngym.sandboxes.forkserver import DEFAULT_PRELOAD, ForkServerSandbox
from turngym.sandboxes.isolation import Limits

DEFAULT_TIMEOUT = 10.0

# Runs after the source; ctx arrives as a JSON string literal, checks happen in the child so the
# error text is a traceback the author of the reward code can read.
_CALL = """\
import json as __turngym_json, math as __turngym_math, numbers as __turngym_numbers
if not callable(globals().get("reward")):
    raise NameError("the reward code must define a function reward(ctx)")
__turngym_r = reward(__turngym_json.loads({context!r}))
if isinstance(__turngym_r, bool) or not isinstance(__turngym_r, __turngym_numbers.Real):
    raise TypeError(f"reward(ctx) returned {{type(__turngym_r).__name__}} {{__turngym_r!r:.200}}, not a number")
__turngym_r = float(__turngym_r)
if not __turngym_math.isfinite(__turngym_r):
    raise ValueError(f"reward(ctx) returned {{__turngym_r}}, not a finite number")
__turngym_r
"""


class RewardCodeError(RuntimeError):
    """The reward code failed to load or run, timed out, or returned something other than a number."""


def run_reward_code(
    source: str,
    context: dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    limits: Limits | None = None,
    preload: Sequence[str] = DEFAULT_PRELOAD,
) -> float:
    """``reward(context)`` as defined by ``source``, evaluated in a fresh sandbox child.

    ``timeout`` covers loading the source and the call together. A context that is not JSON
    serialisable is the caller's bug and raises ``TypeError``.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be str, got {type(source).__name__}")
    try:
        context_json = json.dumps(context, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the reward context must be JSON-serialisable: {exc}") from None
    try:
        with ForkServerSandbox(preload=preload, timeout=timeout, limits=limits) as sandbox:
            loaded = sandbox.run(source)
            if not loaded.ok:
                raise RewardCodeError(f"the reward code failed to load:\n{_reason(loaded.error, timeout)}")
            remaining = max(timeout - loaded.elapsed, 0.001)
            called = sandbox.run(_CALL.format(context=context_json), timeout=remaining)
    except SandboxError as exc:
        raise RewardCodeError(f"the reward sandbox failed: {exc}") from exc
    if not called.ok:
        raise RewardCodeError(f"the reward code failed:\n{_reason(called.error, timeout)}")
    try:
        value = float(called.value or "")
    except ValueError:
        raise RewardCodeError(f"the reward code returned {called.value!r}, not a number") from None
    if not math.isfinite(value):
        raise RewardCodeError(f"the reward code returned {value}, not a finite number")
    return value


def _reason(error: str | None, timeout: float) -> str:
    return error or f"no error text (timeout {timeout:g}s)"
