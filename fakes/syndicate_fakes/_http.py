"""Request body parsing for the fake server (stdlib only).

Bodies are parsed the way Rails/Rack parses them for Mastodon:

* ``application/x-www-form-urlencoded``: ordered ``(key, value)`` pairs; a key
  is taken literally, so ``media_ids=1`` and ``media_ids[]=1`` are different
  parameters (only the bracketed one is an array);
* ``multipart/form-data``: parsed with :mod:`email` (``email.policy.HTTP``),
  parts with a filename are files, parts without are ordinary fields;
* ``application/json``: a JSON object.

:class:`Params` then answers the questions Rails' strong parameters would:
a scalar, an array (``name[]`` in forms, a JSON list), or an array of hashes
(``name[][key]`` in forms, a JSON list of objects).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass, field
from email import errors as email_errors
from urllib.parse import parse_qsl

__all__ = [
    "ApiError",
    "BodyError",
    "Headers",
    "Params",
    "ParsedBody",
    "Response",
    "json_response",
    "parse_body",
]


class BodyError(ValueError):
    """The request body does not match its Content-Type."""


class Headers(dict):
    """A dict of request headers with lower-cased keys and case-insensitive
    lookups. Its repr hides the Authorization value."""

    def __init__(self, items=()):
        super().__init__()
        for key, value in items:
            key = key.lower()
            self[key] = f"{self[key]}, {value}" if key in self else value

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

    def __contains__(self, key):
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __repr__(self):
        shown = {k: ("<redacted>" if k == "authorization" else v) for k, v in self.items()}
        return f"Headers({shown!r})"


class ParsedBody:
    def __init__(self):
        self.pairs: list[tuple[str, str]] = []
        self.files: dict[str, list[tuple[str, str, bytes]]] = {}
        self.json: object = None
        self.error: str | None = None

    @property
    def form(self) -> dict[str, list[str]]:
        form: dict[str, list[str]] = {}
        for key, value in self.pairs:
            form.setdefault(key, []).append(value)
        return form


def _fix_header_text(value: str) -> str:
    """Headers parsed from bytes keep raw UTF-8 as surrogate escapes."""
    try:
        return value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value


def _parse_multipart(content_type: str, body: bytes, parsed: ParsedBody) -> None:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fatal = (email_errors.StartBoundaryNotFoundDefect, email_errors.CloseBoundaryNotFoundDefect)
    if not message.is_multipart() or any(isinstance(d, fatal) for d in message.defects):
        raise BodyError("malformed multipart body")
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition")
        if disposition is None or disposition.content_disposition != "form-data":
            continue
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        name = _fix_header_text(str(name))
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            filename = _fix_header_text(filename)
            if filename == "":  # an empty <input type=file>: Rack drops it
                continue
            ctype = part.get("Content-Type")
            ctype = ctype.content_type if ctype is not None else "application/octet-stream"
            parsed.files.setdefault(name, []).append((filename, ctype, payload))
        else:
            charset = part.get_content_charset() or "utf-8"
            try:
                value = payload.decode(charset, "replace")
            except LookupError:
                value = payload.decode("utf-8", "replace")
            parsed.pairs.append((name, value))


def parse_body(content_type: str | None, body: bytes) -> ParsedBody:
    parsed = ParsedBody()
    mime = (content_type or "").split(";")[0].strip().lower()
    try:
        if not body:
            pass
        elif mime == "application/x-www-form-urlencoded":
            text = body.decode("utf-8", "replace")
            parsed.pairs = parse_qsl(text, keep_blank_values=True)
        elif mime == "multipart/form-data":
            _parse_multipart(content_type or "", body, parsed)
        elif mime == "application/json" or mime.endswith("+json"):
            try:
                parsed.json = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise BodyError(f"invalid JSON: {exc}") from exc
            if not isinstance(parsed.json, dict):
                raise BodyError("JSON body must be an object")
    except BodyError as exc:
        parsed.error = str(exc)
    return parsed


def _scalar_json(value: object) -> str | None:
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Params:
    """Query-string parameters merged with body parameters (body wins)."""

    def __init__(self, query_pairs: list[tuple[str, str]], body: ParsedBody):
        self.pairs = list(query_pairs) + list(body.pairs)
        self.json = body.json if isinstance(body.json, dict) else {}
        self.files = body.files

    def has(self, name: str) -> bool:
        if name in self.json:
            return True
        return any(k == name or k == name + "[]" for k, _ in self.pairs)

    def scalar(self, name: str) -> str | None:
        if name in self.json:
            return _scalar_json(self.json[name])
        values = [v for k, v in self.pairs if k == name]
        return values[-1] if values else None

    def array(self, name: str) -> list[str] | None:
        """``name[]=a&name[]=b`` or a JSON list; ``None`` when absent or not an
        array (Rails drops a scalar where ``permit(name: [])`` expects an array)."""
        if name in self.json:
            value = self.json[name]
            if not isinstance(value, list):
                return None
            items = [_scalar_json(v) for v in value]
            return [v for v in items if v is not None]
        values = [v for k, v in self.pairs if k == name + "[]"]
        return values if values else None

    def hash_array(self, name: str) -> list[dict[str, str]]:
        """``name[][id]=1&name[][description]=x&name[][id]=2...`` as Rack builds
        it: a new hash starts whenever the current one already has that key."""
        if name in self.json:
            value = self.json[name]
            if not isinstance(value, list):
                return []
            result = []
            for item in value:
                if isinstance(item, dict):
                    result.append({k: _scalar_json(v) for k, v in item.items()})
            return result
        prefix = name + "[]["
        result: list[dict[str, str]] = []
        for key, value in self.pairs:
            if key.startswith(prefix) and key.endswith("]"):
                sub = key[len(prefix) : -1]
                if not result or sub in result[-1]:
                    result.append({})
                result[-1][sub] = value
        return result


# --------------------------------------------------------------------------- responses


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict = field(default_factory=dict)


class ApiError(Exception):
    """Answer the request with ``{"error": message}`` and this status."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_response(status: int, data, headers: dict | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, headers=dict(headers or {}))
