"""Request bodies streamed from an open file, never held in memory whole."""

from dataclasses import dataclass, field

from requests_toolbelt import MultipartEncoder

# How much of an uploaded file is read at a time (urllib3 asks for 16 KiB).
UPLOAD_CHUNK = 64 * 1024


class _FileReader:
    """The ``length`` bytes of an open file from where it is, read as they are sent: what
    requests and ``MultipartEncoder`` take for a body of known length (``len`` is what is left,
    as they expect), with none of the file's own ways (a Django ``File`` iterates by lines and
    proxies ``fileno``, which would make requests or the encoder handle it otherwise). A read
    gives at most ``UPLOAD_CHUNK`` bytes, as a raw stream may: its readers (urllib3, the
    encoder) read until it gives nothing."""

    def __init__(self, file, length: int) -> None:
        self.file, self.len = file, length

    def read(self, size: int = -1) -> bytes:
        if self.len <= 0:
            return b""
        size = self.len if size is None or size < 0 else min(size, self.len)
        chunk = self.file.read(min(size, UPLOAD_CHUNK))
        if not chunk:
            # Shorter than it said (changed since it was measured): the body cannot be
            # finished, and an encoder waiting for the rest would wait for ever.
            raise OSError("the file ended before its announced length")
        self.len -= len(chunk)
        return chunk


def _file_length(file) -> int:
    """The bytes from the file's start to its end, measured on the open file itself (what will
    be read), else its ``size`` (a file that cannot seek to its end)."""
    try:
        file.seek(0, 2)
        length = file.tell()
        file.seek(0)
    except (AttributeError, OSError, ValueError):
        return int(file.size)
    return length


@dataclass
class Upload:
    """A request body streamed from an open file (a Django ``File`` from storage or a
    rendition, or any binary file object), never held in memory whole: the file as it is, or,
    with ``part`` (its name), the one file part of a ``multipart/form-data`` form after
    ``fields``
    (``requests_toolbelt``'s ``MultipartEncoder``). The length goes in ``Content-Length``
    (nothing is sent chunked: servers and the proxies in front of them may refuse that).

    ``HttpClient.request(..., upload=...)`` calls ``prepare()`` for each request it sends, so a
    request sent again (after a renewed token) sends the whole file again from its start."""

    file: object
    content_type: str
    part: str | None = None
    filename: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def prepare(self) -> tuple[object, dict[str, str]]:
        """The body from the file's start, and its Content-Type and Content-Length headers."""
        reader = _FileReader(self.file, _file_length(self.file))
        if self.part is None:
            body, content_type = reader, self.content_type
        else:
            parts = [*self.fields.items(), (self.part, (self.filename, reader, self.content_type))]
            body = MultipartEncoder(fields=parts)
            content_type = body.content_type
        return body, {"Content-Type": content_type, "Content-Length": str(body.len)}
