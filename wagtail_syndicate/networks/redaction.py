"""Secrets taken out of what servers answer before it is kept, shown or logged."""

import base64
import json
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from wagtail_syndicate.exceptions import NetworkError

HIDDEN = "[hidden]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` (a server's answer, an error) with every secret of ``secrets`` replaced, as
    written and as a server may echo it: percent-encoded, JSON-escaped, or in the base64 of
    an HTTP Basic ``name:secret`` pair. Secrets shorter than 6 characters are not secrets."""
    if not text:
        return text
    forms = set()
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < 6:
            continue
        forms.update({secret, quote(secret, safe=""), quote_plus(secret)})
        forms.add(json.dumps(secret)[1:-1])
        for raw in {secret, quote(secret, safe="")}:
            # In base64 (an HTTP Basic "name:secret" pair) the secret's bytes from a group
            # boundary on encode the same whatever came before; the last group depends on
            # what follows. For each of the three alignments, that middle part.
            for start in range(3):
                forms.add(base64.b64encode(raw.encode()[start:]).decode("ascii")[:-4])
    for form in sorted(forms, key=len, reverse=True):
        if len(form) >= 6:
            text = text.replace(form, HIDDEN)
    return text


def redact_error(err: Exception, secrets: Iterable[str]) -> Exception:
    """``err`` with the secrets taken out of its message (and a ``NetworkError``'s body)."""
    secrets = list(secrets)
    err.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in err.args)
    if isinstance(err, NetworkError):
        err.body = redact(err.body, secrets)
    return err
