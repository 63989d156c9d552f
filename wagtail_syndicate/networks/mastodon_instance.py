"""What a server that speaks Mastodon's API says about itself, so messages can name it.

Many servers speak the API without being Mastodon. The software is read from the instance
answer (v2's ``source_url`` and ``version``, or a v1 ``version`` such as
``"2.7.2 (compatible; Pleroma 2.5.0)"``) and kept in the account's session, so every later
message names the server as "Pleroma 2.5.0 at social.example"; when the server does not say,
it is named by its host alone.
"""

import re
from urllib.parse import urlsplit

from .base import Credentials

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
