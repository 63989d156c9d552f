"""The HTTP layer: a threading server and a request handler that records
each request, applies faults, and asks FakeMastodon for the response."""

from __future__ import annotations

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, parse_qsl, urlsplit

from ._http import Headers, Response, json_response, parse_body
from ._models import Fault, RecordedRequest

if TYPE_CHECKING:
    from .fake_mastodon import FakeMastodon


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, fake: FakeMastodon):
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind calls socket.getfqdn(), which can be slow.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._connections_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def close_connections(self) -> None:
        """Shut idle keep-alive connections so their threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            return  # the client went away (time-outs, dropped connections)
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeMastodon/4.3.0"
    timeout = 30  # idle keep-alive connections are closed after this

    server: Server

    def setup(self):
        super().setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - quiet; see FakeMastodon.verbose
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            raise ConnectionError("client sent less than Content-Length")
        return body

    def _dispatch(self):
        fake = self.server.fake
        method = self.command.upper()
        url = urlsplit(self.path)
        path = url.path or "/"
        try:
            raw = self._read_body()
        except (ValueError, ConnectionError):
            self.close_connection = True
            return
        headers = Headers(self.headers.items())
        parsed = parse_body(headers.get("content-type"), raw)
        account = fake._account_for(headers)
        fake._record(
            RecordedRequest(
                method=method,
                path=path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers=headers,
                form=parsed.form,
                files=parsed.files,
                body=raw,
                json=parsed.json,
                account=account,
            )
        )
        fault = fake._take_fault(method, path)
        if fault is not None and not fault.after:
            if fake._held(fault) or (fault.delay and fake._sleep(fault.delay)):
                return self._drop()
            if fault.drop:
                return self._drop()
            if fault.status is not None:
                return self._send(self._fault_response(fault), method, path)
        query = parse_qsl(url.query, keep_blank_values=True)
        response = fake._handle(method, path, query, headers, parsed)
        if fault is not None and fault.after:
            if fault.status is not None:
                response = self._fault_response(fault)
            if fake._held(fault) or (fault.delay and fake._sleep(fault.delay)):
                return self._drop()
            if fault.drop:
                return self._drop()
        self._send(response, method, path)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    @staticmethod
    def _fault_response(fault: Fault) -> Response:
        body = fault.body if fault.body is not None else {"error": "Injected fault"}
        if isinstance(body, str):  # e.g. the HTML error page of a proxy in front of Mastodon
            return Response(
                fault.status, body.encode(), "text/html; charset=utf-8", dict(fault.headers or {})
            )
        return json_response(fault.status, body, fault.headers)

    def _drop(self) -> None:
        self.server.fake._log(f"{self.command} {urlsplit(self.path).path} -> dropped")
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, response: Response, method: str, path: str) -> None:
        self.server.fake._log(f"{method} {path} -> {response.status}")
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, str(value))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
        except OSError:  # the client gave up (e.g. its time-out fired)
            self.close_connection = True
