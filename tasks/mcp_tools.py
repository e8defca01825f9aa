"""Tools from any MCP server over stdio, behind a synchronous facade a gymnasium env can call.

:class:`MCPToolSource` starts the server as a real subprocess with the ``mcp`` package's stdio
client, lists its tools as :class:`turngym.tools.Tool` s (schema straight from the server) and
forwards calls. The client is asyncio; a gymnasium ``step`` is not, so the session lives in a
background thread running its own event loop and every public method hands a coroutine to
that loop and waits for the answer, with a timeout.

Failures keep their kind: a tool that reports an error (``is_error``) raises
:class:`turngym.tools.ToolError`, which an env shows the agent like any tool error; a server
that dies, hangs or closes the connection raises :class:`MCPServerError` carrying the tail of
the server's stderr. :meth:`MCPToolSource.close` (or leaving the ``with`` block, or garbage
collection) stops the session and the server process; nothing is left running.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import tempfile
import threading
import weakref
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

import mcp
from mcp import ClientSession, StdioServerParameters, stdio_client

from turngym.tools import Tool, ToolError

log = logging.getLogger(__name__)
R = TypeVar("R")
_STDERR_TAIL = 2000


class MCPServerError(RuntimeError):
    """The MCP server could not start, died, timed out or closed the connection."""


class _Session:
    """The asyncio side: one thread, one loop, one client session, kept open until closed."""

    def __init__(self, params: StdioServerParameters, startup_timeout: float):
        self.params = params
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self.session: ClientSession | None = None
        self.failure: BaseException | None = None
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._startup_timeout = startup_timeout
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), name="mcp-client", daemon=True)
        self.thread.start()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        try:
            async with stdio_client(self.params, errlog=self.stderr) as (read, write):
                async with ClientSession(read, write) as session:
                    await asyncio.wait_for(session.initialize(), self._startup_timeout)
                    self.session = session
                    self.ready.set()
                    await self._closing.wait()
        except BaseException as exc:  # kept for the caller's thread; this one only reports
            self.failure = exc
        finally:
            self.session = None
            self.ready.set()

    def run(self, coroutine: Awaitable[R], timeout: float) -> R:
        if self.loop is None or self.session is None:
            raise MCPServerError("the MCP session is not running")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self, timeout: float = 10.0) -> None:
        if self.loop is not None and self._closing is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._closing.set)
            except RuntimeError:  # the loop stopped between the check and the call
                pass
        self.thread.join(timeout)
        if self.thread.is_alive():
            log.warning("the MCP client thread did not stop within %.0fs", timeout)
        self.stderr.close()

    def stderr_tail(self) -> str:
        try:
            self.stderr.flush()
            self.stderr.seek(0)
            return self.stderr.read()[-_STDERR_TAIL:].strip()
        except ValueError:  # already closed
            return ""


class MCPToolSource:
    """The tools of one MCP server started as ``command *args`` (with extra ``env`` variables)."""

    def __init__(
        self,
        command: str,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        *,
        cwd: str | None = None,
        startup_timeout: float = 30.0,
        call_timeout: float = 60.0,
    ):
        self.command = " ".join([command, *args])
        self.call_timeout = call_timeout
        params = StdioServerParameters(command=command, args=list(args), env=dict(env or {}), cwd=cwd)
        self._session = _Session(params, startup_timeout)
        self._finalizer = weakref.finalize(self, self._session.close)
        self._tools: list[Tool] | None = None
        if not self._session.ready.wait(startup_timeout + 5) or self._session.session is None:
            cause = self._session.failure
            tail = self._session.stderr_tail()
            self.close()
            raise MCPServerError(
                f"MCP server {self.command!r} did not start: {_describe(cause)}"
                + (f"\nserver stderr:\n{tail}" if tail else "")
            ) from cause

    # -- the facade --------------------------------------------------------------------------

    def tools(self, refresh: bool = False) -> list[Tool]:
        """The server's tools; each ``fn`` forwards to :meth:`call` (so ``tool.fn(**args)`` works)."""
        if self._tools is None or refresh:
            listed = self._run(self._list_tools(), "tools/list")
            self._tools = [self._tool(t) for t in listed]
        return list(self._tools)

    def call(self, name: str, arguments: Mapping[str, Any] | None = None, timeout: float | None = None) -> str:
        """Run one tool on the server and return its result as text."""
        session = self._require_session()
        result = self._run(session.call_tool(name, dict(arguments or {})), f"tools/call {name}", timeout)
        text = result_text(result)
        if result.is_error:
            raise ToolError(text or f"MCP tool {name!r} failed without a message")
        return text

    @property
    def alive(self) -> bool:
        return self._session.session is not None and self._session.thread.is_alive()

    def close(self) -> None:
        """Stop the session and the server process (idempotent)."""
        self._finalizer()

    def __enter__(self) -> MCPToolSource:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    async def _list_tools(self) -> list[mcp.types.Tool]:
        session = self._require_session()
        tools: list[mcp.types.Tool] = []
        cursor: str | None = None
        while True:
            params = mcp.types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    def _tool(self, spec: mcp.types.Tool) -> Tool:
        name = spec.name

        def forward(**arguments: Any) -> str:
            return self.call(name, arguments)

        try:
            return Tool(name=name, description=spec.description or "", parameters=dict(spec.input_schema), fn=forward)
        except Exception as exc:
            raise MCPServerError(
                f"MCP server {self.command!r} declares tool {name!r} with a bad schema: {exc}"
            ) from exc

    def _require_session(self) -> ClientSession:
        session = self._session.session
        if session is None:
            raise MCPServerError(self._dead_message("the session is closed"))
        return session

    def _run(self, coroutine: Awaitable[R], what: str, timeout: float | None = None) -> R:
        limit = self.call_timeout if timeout is None else timeout
        try:
            return self._session.run(coroutine, limit)
        except concurrent.futures.TimeoutError:
            raise MCPServerError(f"MCP server {self.command!r}: {what} timed out after {limit:g}s") from None
        except mcp.MCPError as exc:
            if self._session.session is None or "connection closed" in str(exc).lower():
                raise MCPServerError(self._dead_message(f"{what} failed: {exc}")) from exc
            raise ToolError(f"{what} failed: {exc}") from exc
        except (BrokenPipeError, ConnectionError, EOFError) as exc:
            raise MCPServerError(self._dead_message(f"{what} failed: {exc!r}")) from exc

    def _dead_message(self, what: str) -> str:
        """Describe a dead server, and release what is left of it (thread, pipes, process)."""
        tail = self._session.stderr_tail()
        self.close()
        return f"MCP server {self.command!r} is gone ({what}); start a new MCPToolSource" + (
            f"\nserver stderr:\n{tail}" if tail else ""
        )


def result_text(result: mcp.types.CallToolResult) -> str:
    """A tool result as the text an agent reads: text blocks joined, other blocks summarised."""
    parts = []
    for block in result.content:
        if isinstance(block, mcp.types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp.types.EmbeddedResource) and hasattr(block.resource, "text"):
            parts.append(block.resource.text)  # type: ignore[union-attr]
        else:
            parts.append(f"[{block.type} content: {getattr(block, 'mime_type', '') or 'binary'}]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content))
    return "\n".join(parts)


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no answer to initialize"
    inner = getattr(exc, "exceptions", None)  # anyio task groups wrap the real cause
    if inner:
        return "; ".join(_describe(e) for e in inner)
    return f"{type(exc).__name__}: {exc}"
