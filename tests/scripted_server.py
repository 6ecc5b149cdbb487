"""A real OpenAI-compatible HTTP server that replays scripted replies, for tests that must not reach the internet.

Mocking the SDK would test our assumptions about the SDK; a socket tests what the client actually sends and how it
copes with what servers actually send (HTML error pages, 429s with Retry-After, dropped connections, slow replies).

    with ScriptedServer([chat_reply("hi"), Reply(status=500)]) as server:
        client = HarnessedClient("m", base_url=server.url)
        ...
        server.requests[0].json["max_tokens"]

Run as a process for end-to-end CLI tests; the first line printed is the base URL:

    python tests/scripted_server.py --port 0 --replies replies.json

`replies.json` is a list of replies, or {"replies": [...], "default": reply} where `default` answers once the list is
used up. A reply is {"status", "headers", "body", "delay_s", "drop", "cut_after", "reset", "trickle_s"} or
{"chat": {chat_reply keyword arguments}}.
"""
from __future__ import annotations

import argparse
import collections
import json
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

AUTO = "auto"  # usage computed from the request, so prompt-size checks see realistic token counts


@dataclass
class Reply:
    """One scripted HTTP answer. A dict or list body is sent as JSON; `drop` closes the socket without answering.

    Faults mid-reply: `cut_after=N` sends the status line, the headers (with the full Content-Length) and only the first
    N bytes of the body, then closes; `reset` makes a drop or a cut an abortive close (TCP RST, "connection reset by
    peer") instead of a clean FIN; `trickle_s` sends the body one byte at a time with that pause between bytes, so a
    client whose timeout is per read never times out while the reply never finishes in useful time.
    """

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False
    auto_usage: bool = False
    cut_after: int | None = None
    reset: bool = False
    trickle_s: float = 0.0

    @classmethod
    def from_dict(cls, spec: dict) -> "Reply":
        if "chat" in spec:
            return chat_reply(**spec["chat"])
        return cls(**spec)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    at: float  # time.monotonic() when the request arrived, to measure gaps between retries


def chat_reply(
    content: str | None,
    finish_reason: str | None = "stop",
    usage: dict | str | None = AUTO,
    reasoning_content: str | None = None,
    *,
    model: str = "scripted-model",
    cost: float | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A chat completion as OpenAI-compatible servers send it. `usage=None` omits usage; `cost` adds OpenRouter's usage.cost."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning_content is not None:
        message["reasoning_content"] = reasoning_content
    body: dict[str, Any] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    if isinstance(usage, dict):
        body["usage"] = dict(usage)
    if cost is not None:
        body.setdefault("usage", {})["cost"] = cost
    return Reply(status=status, body=body, headers=dict(headers or {}), auto_usage=usage == AUTO)


def _auto_usage(request_json: Any, body: dict) -> dict:
    """Roughly 4 characters a token, the way a real tokenizer would count this exchange."""
    messages = request_json.get("messages", []) if isinstance(request_json, dict) else []
    prompt_chars = sum(len(m.get("content") or "") for m in messages if isinstance(m, dict))
    content = body["choices"][0]["message"].get("content") or ""
    prompt, completion = prompt_chars // 4 + 1, len(content) // 4 + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class ScriptedServer:
    """Serves POST /v1/chat/completions from a queue of replies, then `reply_for(request_json)`, then `default`.

    When all three are exhausted it answers 500 with "script exhausted", so a test that calls more than it scripted fails
    visibly. Every request is recorded in `requests`.
    """

    def __init__(
        self,
        replies: Iterable[Reply] = (),
        *,
        reply_for: Callable[[Any], Reply | str] | None = None,
        default: Reply | None = None,
        models: Iterable[str] = ("scripted-model",),
        port: int = 0,
    ) -> None:
        self.reply_for = reply_for
        self.default = default
        self.models = list(models)
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[Reply] = collections.deque(replies)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The base URL a client is given (ends in /v1, like real servers)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> "ScriptedServer":
        # A short poll interval: stop() waits for the serve loop to notice, and tests stop many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request_json: Any) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.reply_for is not None:
            reply = self.reply_for(request_json)
            return chat_reply(reply) if isinstance(reply, str) else reply
        if self.default is not None:
            return self.default
        return Reply(status=500, body={"error": {"message": "script exhausted", "type": "scripted_server"}})


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server._record(RecordedRequest("GET", self.path, dict(self.headers), None, time.monotonic()))
            if self.path.rstrip("/").endswith("/models"):
                data = [{"id": m, "object": "model", "owned_by": "scripted"} for m in server.models]
                self._send(Reply(body={"object": "list", "data": data}))
            else:
                self._send(Reply(status=404, body={"error": {"message": f"no route {self.path}"}}))

        def do_POST(self) -> None:
            arrived = time.monotonic()
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                request_json = json.loads(raw) if raw else None
            except ValueError:
                request_json = raw.decode("utf-8", "replace")
            server._record(RecordedRequest("POST", self.path, dict(self.headers), request_json, arrived))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(Reply(status=404, body={"error": {"message": f"no route {self.path}"}}))
                return
            self._send(server._next_reply(request_json), request_json)

        def _send(self, reply: Reply, request_json: Any = None) -> None:
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.drop:
                self.close_connection = True
                if reply.reset:
                    self._abort()
                return
            body = reply.body
            if reply.auto_usage and isinstance(body, dict):
                body = {**body, "usage": {**_auto_usage(request_json, body), **body.get("usage", {})}}
            if isinstance(body, (dict, list)):
                payload, ctype = json.dumps(body).encode(), "application/json"
            else:
                payload = body.encode() if isinstance(body, str) else bytes(body)
                ctype = "text/html; charset=utf-8" if payload.lstrip().startswith(b"<") else "text/plain"
            try:
                self.send_response(reply.status)
                for name, value in {"Content-Type": ctype, **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                sent = payload if reply.cut_after is None else payload[: reply.cut_after]
                if reply.trickle_s:
                    self.wfile.flush()
                    for i in range(len(sent)):
                        self.wfile.write(sent[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle_s)
                else:
                    self.wfile.write(sent)
                if reply.cut_after is not None:
                    self.wfile.flush()
                    self.close_connection = True
                    if reply.reset:
                        self._abort()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test): nothing left to tell it

        def _abort(self) -> None:
            """Close with a TCP RST (SO_LINGER on, zero timeout): the client sees "connection reset by peer"."""
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests assert on `requests`, not on stderr."""

    return Handler


def _load_replies(path: str) -> tuple[list[Reply], Reply | None]:
    with open(path, encoding="utf-8") as fh:
        spec = json.load(fh)
    if isinstance(spec, list):
        spec = {"replies": spec}
    default = spec.get("default")
    return [Reply.from_dict(r) for r in spec.get("replies", [])], Reply.from_dict(default) if default else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve scripted OpenAI-compatible replies on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--replies", help="JSON file: a list of replies, or {replies: [...], default: reply}")
    args = parser.parse_args(argv)
    replies, default = _load_replies(args.replies) if args.replies else ([], None)
    server = ScriptedServer(replies, default=default, port=args.port)
    print(server.url, flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    sys.exit(main())
