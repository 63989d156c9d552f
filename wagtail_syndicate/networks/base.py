"""The interface every network implements, and the flow they share.

Network modules never touch the database: they get plain ``Credentials`` and a composed
``Post`` and answer with dataclasses or ``SyndicationError`` subclasses.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigurationError
from ..posts import Media, Post


@dataclass(frozen=True)
class Credentials:
    instance_url: str
    access_token: str = field(repr=False)


@dataclass(frozen=True)
class AccountInfo:
    """Who a token belongs to."""

    handle: str
    remote_id: str
    profile_url: str


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str


class Network(ABC):
    """One social network. Subclasses fill in the steps; ``publish`` owns the order."""

    name: str
    label: str

    @abstractmethod
    def connect(self, credentials: Credentials) -> Any:
        """A client for the network's API acting with ``credentials`` (no request made yet)."""

    @abstractmethod
    def verify(self, credentials: Credentials) -> AccountInfo:
        """Check the token and say whose it is; raises ``NetworkError`` if it is refused."""

    @abstractmethod
    def upload_media(self, client: Any, media: Media) -> str:
        """Upload one image with its alt text and focus; return the network's media id once
        the network can attach it."""

    @abstractmethod
    def create_post(
        self, client: Any, post: Post, media_ids: list[str], idempotency_key: str
    ) -> Published:
        """Create the post with the uploaded media attached."""

    def publish(self, credentials: Credentials, post: Post, idempotency_key: str) -> Published:
        """Upload every image, then post once. ``idempotency_key`` is the same for every
        attempt at the same publish, so a repeated request cannot create a second post."""
        client = self.connect(credentials)
        media_ids = [self.upload_media(client, media) for media in post.media]
        return self.create_post(client, post, media_ids, idempotency_key)


def get_network(name: str) -> Network:
    from .mastodon import MastodonNetwork

    networks: dict[str, type[Network]] = {MastodonNetwork.name: MastodonNetwork}
    try:
        return networks[name]()
    except KeyError:
        raise ConfigurationError(
            f"Unknown network '{name}'. Known networks: {', '.join(sorted(networks))}."
        ) from None
