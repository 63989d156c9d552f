"""What a network is handed to post: the ``Post`` and its ``Media`` (values, composed by
``content``)."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Media:
    """One image to upload. ``file`` is a Django ``File`` (read through storage, never by path).

    ``source`` names the original image file, so an upload can be recognised and reused.
    """

    file: Any = field(repr=False)
    filename: str
    content_type: str
    alt_text: str
    focus: tuple[float, float] | None
    width: int
    height: int
    size: int
    source: str


@dataclass(frozen=True)
class Post:
    text: str
    url: str
    media: list[Media] = field(default_factory=list)
    spoiler_text: str = ""
    visibility: str = "public"
    language: str | None = None
    # When the post was first tried: the same for every attempt with one idempotency key (set
    # by the task; a network that names its posts by time, as Bluesky does, uses it).
    created_at: datetime | None = None

    @property
    def sensitive(self) -> bool:
        return bool(self.spoiler_text)

    @property
    def fingerprint(self) -> str:
        images = [(m.source, m.alt_text, m.focus) for m in self.media]
        return fingerprint(self.text, self.spoiler_text, self.language, images)


def fingerprint(text, spoiler_text, language, images) -> str:
    """A hash of everything a post shows that an edit can change: text, content warning,
    language, and each image's source, alt text and focus (visibility cannot be edited)."""
    payload = json.dumps(
        [text, spoiler_text, language, [[s, a, list(f) if f else None] for s, a, f in images]]
    )
    return hashlib.sha256(payload.encode()).hexdigest()
