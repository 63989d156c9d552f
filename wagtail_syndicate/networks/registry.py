"""The networks accounts may be on: the built-in ones and the ``NETWORKS`` setting's, each
resolved to its ``Network``; checking a secret an administrator gave against its network."""

from dataclasses import replace

from django.utils.module_loading import import_string

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError, NetworkError
from wagtail_syndicate.networks.base import AccountInfo, Credentials, Network
from wagtail_syndicate.networks.redaction import redact_error

# The networks built in, by the key stored on accounts (``NETWORKS`` adds to them).
BUILT_IN_NETWORKS = {
    "mastodon": {"BACKEND": "wagtail_syndicate.networks.mastodon.MastodonNetwork"},
    "bluesky": {"BACKEND": "wagtail_syndicate.networks.bluesky.BlueskyNetwork"},
    "x": {"BACKEND": "wagtail_syndicate.networks.x.XNetwork"},
}


def configured_networks() -> dict[str, dict]:
    """Every network accounts may be on, by key: the built-in ones, with the ``NETWORKS``
    setting's added or replacing them (None leaves one out)."""
    configured = get_setting("NETWORKS") or {}
    if not isinstance(configured, dict):
        raise ConfigurationError('WAGTAIL_SYNDICATE["NETWORKS"] must be a dict.')
    merged = {**BUILT_IN_NETWORKS, **configured}
    return {key: value for key, value in merged.items() if value is not None}


def get_network(name: str) -> Network:
    """The network accounts with ``network`` = ``name`` are on (``configured_networks``)."""
    networks = configured_networks()
    try:
        backend = networks[name]["BACKEND"]
    except (KeyError, TypeError):
        if name in networks:
            raise ConfigurationError(
                f'WAGTAIL_SYNDICATE["NETWORKS"]["{name}"] must be a dict with a "BACKEND".'
            ) from None
        raise ConfigurationError(
            f"Unknown network '{name}'. Known networks: {', '.join(sorted(networks))}."
        ) from None
    network_class = import_string(backend)
    if not (isinstance(network_class, type) and issubclass(network_class, Network)):
        raise ConfigurationError(f'"{backend}" (network "{name}") is not a Network subclass.')
    network = network_class()
    network.name = name  # the key accounts store, whatever the class calls itself
    return network


def network_choices() -> list[tuple[str, str]]:
    """(key, label) of every configured network, for forms and filters."""
    choices = []
    for key in configured_networks():
        try:
            choices.append((key, str(get_network(key).label)))
        except (ConfigurationError, ImportError):
            choices.append((key, key))  # the system check says what is wrong with it
    return choices


def check_account(
    network_name: str, instance_url: str, secret: str, handle: str = ""
) -> tuple[AccountInfo, dict]:
    """Check a secret an administrator gave (a token, an app password) by asking the network
    whose it is; return that and the session the check opened, if the network keeps one.
    Raises ``NetworkError`` if it is refused; the admin form and the command both use this."""
    sessions: list[dict] = []
    credentials = Credentials(
        instance_url, secret, handle=handle.strip().lstrip("@"), save_session=sessions.append
    )
    network = get_network(network_name)
    try:
        info = network.verify(credentials)
    except NetworkError as err:
        # The refusal is shown to the administrator and may be printed or logged: without
        # the secret, should the server have echoed it.
        opened = replace(credentials, session=sessions[-1] if sessions else {})
        redact_error(err, network.secrets(opened))
        raise
    return info, (sessions[-1] if sessions else {})
