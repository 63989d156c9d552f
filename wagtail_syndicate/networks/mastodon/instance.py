"""What a server that speaks Mastodon's API says about itself: its limits, and its software,
so messages can name it.

Many servers speak the API without being Mastodon. The software is read from the instance
answer (v2's ``source_url`` and ``version``, or a v1 ``version`` such as
``"2.7.2 (compatible; Pleroma 2.5.0)"``) and kept in the account's session, so every later
message names the server as "Pleroma 2.5.0 at social.example"; when the server does not say,
it is named by its host alone.
"""

import re
from urllib.parse import urlsplit

from wagtail_syndicate.networks.base import Credentials
from wagtail_syndicate.networks.limits import Limits

# The image types Limits.supported_formats names, by the MIME type an instance lists.
MIME_FORMATS = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/heic": "heic",
    "image/heif": "heic",
}

SESSION_KEY = "software"
# "… (compatible; Pleroma 2.5.0)", as servers that are not Mastodon write their v1 version.
COMPATIBLE = re.compile(r"\(compatible;\s*([^)]+)\)", re.IGNORECASE)
# A name shown in messages is at most this long, and only of printable characters.
MAX_NAME = 60


def software(instance: dict) -> str:
    """The software (and version) an instance answer names, or "" when it does not say."""
    version = instance.get("version")
    version = version.strip() if isinstance(version, str) else ""
    compatible = COMPATIBLE.search(version)
    if compatible:
        return _clean(compatible.group(1))
    source = instance.get("source_url")
    if isinstance(source, str) and source.strip():
        name = urlsplit(source.strip()).path.rstrip("/").rpartition("/")[2]
        if name:
            name = "Mastodon" if name.lower() == "mastodon" else name
            return _clean(f"{name} {version}")
    return ""


def _clean(name: str) -> str:
    return " ".join("".join(c for c in name if c.isprintable()).split())[:MAX_NAME]


def remember_software(credentials: Credentials, instance: dict) -> None:
    """Keep the software ``instance`` names in the account's session (when it changed)."""
    name = software(instance)
    if name != credentials.session.get(SESSION_KEY, ""):
        credentials.save_session({**credentials.session, SESSION_KEY: name})


def server_label(credentials: Credentials) -> str:
    """The software the account's server is known to run ("" when not known)."""
    name = credentials.session.get(SESSION_KEY, "")
    return name if isinstance(name, str) else ""


def limits_from_instance(instance: dict) -> Limits:
    """Limits from a ``/api/v2/instance`` or ``/api/v1/instance`` answer; any key may be
    missing or malformed (forks and other servers differ), and then the default holds."""
    configuration = _dict(instance.get("configuration"))
    statuses = _dict(configuration.get("statuses"))
    media = _dict(configuration.get("media_attachments"))
    defaults = Limits()
    mime_types = media.get("supported_mime_types")
    formats = (
        frozenset(MIME_FORMATS[m] for m in mime_types if isinstance(m, str) and m in MIME_FORMATS)
        if isinstance(mime_types, list)
        else defaults.supported_formats
    )
    return Limits(
        # Pleroma and Akkoma say max_toot_chars, upload_limit, description_limit at the top.
        max_characters=_positive(
            statuses.get("max_characters", instance.get("max_toot_chars")),
            defaults.max_characters,
        ),
        max_media=_positive(statuses.get("max_media_attachments"), defaults.max_media),
        characters_per_url=_positive(
            statuses.get("characters_reserved_per_url"), defaults.characters_per_url
        ),
        image_size_limit=_positive(
            media.get("image_size_limit", instance.get("upload_limit")),
            defaults.image_size_limit,
        ),
        image_matrix_limit=_positive(media.get("image_matrix_limit"), defaults.image_matrix_limit),
        description_limit=_positive(
            media.get("description_limit", instance.get("description_limit")),
            defaults.description_limit,
        ),
        supported_formats=formats or defaults.supported_formats,
    )


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _positive(value, default: int) -> int:
    if isinstance(value, bool):  # JSON true is not a number of characters
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if number > 0 else default
