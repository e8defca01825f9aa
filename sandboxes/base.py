"""The one sandbox interface every backend implements.

Envs depend on :class:`Sandbox`, never on a backend, so a TableQA episode can run in the local
fork server today and in a Docker container tomorrow without a line of env code changing.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ExecResult:
    """What one `run` produced.

    ``error`` is a short, human-readable message (a trimmed traceback for Python, the reason for
    a kill) and is ``None`` on success; ``state_lost`` says the backend had to restart, so
    variables from earlier cells are gone.
    """

    stdout: str = ""
    stderr: str = ""
    value: str | None = None  # repr of the last expression (Python backends)
    error: str | None = None
    exit_code: int = 0
    elapsed: float = 0.0
    truncated: bool = False
    timed_out: bool = False
    state_lost: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.exit_code == 0

    def render(self, limit: int | None = None) -> str:
        """The text an agent sees for this result (stdout, value, errors, notes)."""
        parts: list[str] = []
        if self.stdout:
            parts.append(self.stdout.rstrip("\n"))
        if self.value is not None:
            parts.append(self.value)
        if self.stderr and self.error is None:
            parts.append(f"[stderr]\n{self.stderr.rstrip()}")
        if self.error is not None:
            parts.append(f"[error] {self.error}")
        if self.truncated:
            parts.append("[output truncated]")
        if self.state_lost:
            parts.append("[sandbox restarted: variables from earlier calls are lost]")
        text = "\n".join(parts) if parts else "[no output]"
        if limit is not None and len(text) > limit:
            text = text[:limit] + f"\n[... {len(text) - limit} more characters truncated]"
        return text


class SandboxError(RuntimeError):
    """A sandbox could not be created or used at all (not an error inside user code)."""


class Sandbox(abc.ABC):
    """Isolated execution with persistent state until :meth:`reset`.

    ``run`` never raises for problems caused by the code it runs (syntax errors, timeouts, memory
    bombs, crashes): those come back in :class:`ExecResult`. It raises :class:`SandboxError` only
    when the backend itself is unusable.
    """

    @abc.abstractmethod
    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Run Python code (local backend) or a shell command (Docker backend)."""

    @abc.abstractmethod
    def put_file(self, path: str, data: bytes | str) -> None:
        """Write a file inside the sandbox (path relative to its working directory)."""

    @abc.abstractmethod
    def get_file(self, path: str) -> bytes:
        """Read a file from inside the sandbox."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Return to a clean state (fresh interpreter / container, empty working dir)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release every process, file descriptor, temp dir or container it holds."""

    @property
    def workdir(self) -> Path | str:
        """The working directory as seen from inside the sandbox."""
        raise NotImplementedError

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
