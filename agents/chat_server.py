"""A real OpenAI-compatible chat-completions server on 127.0.0.1 whose replies come from a function.

For what cannot exist on an offline machine — a hosted model — yet must be exercised for real:
the HTTP client, the request the agent builds, the tool-call round trip, concurrency. Tests and
benchmarks start one on port 0 in a background thread and point an agent at ``server.base_url``.

The ``responder`` gets the decoded request body (``model``, ``messages``, ``tools``,
``max_tokens``...) and returns an assistant message dict (``content`` and maybe ``tool_calls``).
``native_tools=False`` imitates a server without tool calling: a request carrying ``tools`` gets
the HTTP 400 such servers send; ``token_param="max_completion_tokens"`` imitates OpenAI's
reasoning models, which answer ``max_tokens`` with a 400. ``delay`` seconds are slept per request, like a model's latency.
Every request body is kept in ``server.requests`` (in arrival order).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from turngym.tokens import heuristic_token_count

logger = logging.getLogger(__name__)

Responder = Callable[[dict[str, Any]], dict[str, Any]]


class ScriptedChatServer:
    """See the module docstring. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        responder: Responder,
        *,
        native_tools: bool = True,
        token_param: str = "max_tokens",
        delay: float = 0.0,
        model: str = "scripted",
        keep_requests: bool = True,
    ):
        self.responder, self.native_tools, self.delay, self.model = responder, native_tools, delay, model
        self.keep_requests, self.token_param = keep_requests, token_param
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running: call start()")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedChatServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedChatServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ one request
    def complete(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one chat-completions request."""
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, _error("'messages' must be a non-empty list")
        if body.get("tools") and not self.native_tools:
            return 400, _error('"auto" tool choice is not supported by this server (no tool-call parser)')
        if self.token_param == "max_completion_tokens" and "max_tokens" in body:
            return 400, _error(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead."
            )
        if self.keep_requests:
            with self._lock:
                self.requests.append(body)
        if self.delay:
            time.sleep(self.delay)
        message = {"role": "assistant", "content": "", **self.responder(body)}
        completion = heuristic_token_count(message.get("content") or "") + sum(
            heuristic_token_count(c["function"]["arguments"]) for c in message.get("tool_calls") or []
        )
        prompt = sum(heuristic_token_count(str(m.get("content") or "")) + 4 for m in body["messages"])
        return 200, {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "BadRequestError", "param": None, "code": 400}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections
    # Headers and body are two writes; with Nagle on, the body waits for the client's delayed ACK
    # (40 ms on Linux) on every response.
    disable_nagle_algorithm = True
    server_state: ScriptedChatServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, _error(f"no route {self.path}"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError as exc:
            self._send(400, _error(f"the body is not JSON: {exc}"))
            return
        try:
            status, reply = self.server_state.complete(body)
        except Exception as exc:  # the responder's bug: answer 500 and say why
            logger.exception("responder failed")
            status, reply = 500, {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}}
        self._send(status, reply)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server_state.model, "object": "model"}]})
        else:
            self._send(404, _error(f"no route {self.path}"))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s " + format, self.address_string(), *args)
