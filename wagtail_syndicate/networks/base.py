"""The interface every network implements, and the flows they share.

Network modules never touch the database: they get plain ``Credentials`` and a composed
``Post`` and answer with dataclasses or ``SyndicationError`` subclasses. What they upload is
reported through ``remember`` so the caller can keep it for retries and edits.
"""

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import PermanentNetworkError
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.links import _origin, post_link_problem
from wagtail_syndicate.networks.post import Media, Post


def _keep(session: dict) -> None:
    pass


# Media uploaded this many seconds before the server forgets them are uploaded again.
MEDIA_EXPIRY_MARGIN = 3600


@dataclass(frozen=True)
class Credentials:
    """How to act as one account. ``access_token`` is the account's long-lived secret (a
    Mastodon token, a Bluesky app password, an X access token); ``session`` is what the network
    keeps between runs (refresh tokens, session tokens, their expiry), stored encrypted.
    A network that renews its session passes the new one to ``save_session`` at once, and
    when a renewal is refused it looks at ``reload_session()`` for one another run made."""

    instance_url: str
    access_token: str = field(repr=False)
    # The account's name on the network, where signing in needs it (Bluesky's identifier).
    handle: str = ""
    session: dict = field(default_factory=dict, repr=False, compare=False)
    save_session: Callable[[dict], None] = field(default=_keep, repr=False, compare=False)
    # The session as stored now: another worker may have renewed it since this run began
    # (a rotated refresh token then is only valid in the stored session).
    reload_session: Callable[[], dict] = field(default=dict, repr=False, compare=False)
    # Renew the session with ``renew(stored) -> new``, given the stored session, keeping what
    # it returns; the account's model holds a lock on the account meanwhile, so two runs never
    # spend one single-use refresh token. ``None``: read, renew and save without a lock.
    locked_renewal: Callable[[Callable[[dict], dict]], dict] | None = field(
        default=None, repr=False, compare=False
    )

    def renew_session(self, renew: Callable[[dict], dict]) -> dict:
        """The session ``renew`` makes from the stored one, kept (under the account's lock
        when the caller gave one)."""
        if self.locked_renewal is not None:
            return self.locked_renewal(renew)
        session = renew(self.reload_session())
        self.save_session(session)
        return session

    def renewed_session(self, key: str, current: str | None) -> dict | None:
        """The stored session if another run renewed it since this run read it (its ``key``,
        a single-use refresh token, is no longer ``current``), else None."""
        stored = self.reload_session()
        return stored if stored.get(key) not in (None, current) else None


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
    # True when an existing post was found and taken as this one, rather than created.
    adopted: bool = False
    # True when an edit's answer shows the post's earlier images or descriptions, not those
    # sent: the server applied the text only.
    media_kept: bool = False


@dataclass(frozen=True)
class UploadedMedia:
    """An image the network already has: which original it came from, and as what."""

    source: str
    remote_id: str
    alt_text: str
    focus: tuple[float, float] | None
    # When it was uploaded and when the server forgets it unless a post uses it (epoch
    # seconds; None when not known, or when the network keeps media).
    uploaded_at: float | None = None
    expires_at: float | None = None

    def shows(self, media: Media) -> bool:
        return (self.alt_text, self.focus) == (media.alt_text, media.focus)

    @classmethod
    def of(cls, media: Media, remote_id: str, **times) -> "UploadedMedia":
        return cls(media.source, remote_id, media.alt_text, media.focus, **times)


def _ignore(uploaded: UploadedMedia) -> None:
    pass


class Network(ABC):
    """One social network. Subclasses fill in the steps; the flows here own the order.

    What the rest of the plugin may know about a network is declared here: whether its posts
    can be edited or deleted, for how long a repeated create is recognised, and its limits
    (``default_limits`` until the server says otherwise; they also hold how text is counted).
    """

    name: str
    label: str
    # Posts can be edited in place (``update_post``); if not, a changed page leaves its post.
    edits: bool = True
    # Posts can be deleted (``delete_post``).
    deletes: bool = True
    # How long the server recognises a repeated create by its idempotency key; ``None`` when
    # it has no such key. ``timedelta.max`` when the key names the post itself (a record key),
    # so every server honours it; any other key is only a second guard, since some servers
    # ignore it: an attempt whose outcome is unknown is then looked for before creating again.
    idempotency_window: timedelta | None = None
    default_limits: Limits = Limits()
    # ``limits`` asks the server (False: they are ``default_limits``, known without asking,
    # so admin pages show them as the server's own and queue no refresh).
    limits_from_server: bool = True
    # The visibilities a post may have, as (value, label) pairs with lazily translated labels
    # (Mastodon's: public, quiet public, followers only, mentioned people only); empty when
    # posts have none. The account and page forms offer them: the models' fields have no
    # choices, so a network of a site's own needs no migration.
    visibilities: Sequence[tuple[str, Any]] = ()
    # The one of ``visibilities`` whose posts only the account itself sees (Mastodon's
    # "direct"), used by "Send a test post"; None when every post is seen by others, where
    # that check signs in and uploads its image but posts nothing. A subclass that declares
    # other ``visibilities`` without this one has none (``private_choice``).
    private_visibility: str | None = None
    # What becomes of a page's content warning: "text" (shown before the post), "label" (the
    # post is marked sensitive; the warning's words are not posted) or None (not posted).
    content_warning: str | None = None
    # The server's own address when accounts have one (the admin's default for a new account).
    default_instance_url: str = ""
    # Media uploads an account may make, as (count, seconds), for the ``syndicate`` command to
    # pace itself to; None when the network has no such limit to keep to.
    upload_rate: tuple[int, float] | None = None
    # Seconds the server keeps an uploaded medium that no post uses (None: kept); one older
    # than that, or of unknown age, is uploaded again before a post is created with it.
    media_lifetime: float | None = None
    # Hosts the network's post links are on besides the account's server (the web app of a
    # network whose API is elsewhere): a post link on any other host is not shown.
    post_url_hosts: tuple[str, ...] = ()
    # Keys of the session that hold secrets (refresh and session tokens), and settings that
    # do (the site's app secrets): redacted, with the access token, from server text kept.
    secret_session_keys: tuple[str, ...] = ()
    secret_settings: tuple[str, ...] = ()
    # The network ends a removed account's access itself (``disconnect``); if not, its
    # connect flow revokes the token with the site's app, or nothing can be revoked.
    disconnects: bool = False

    @classmethod
    def private_choice(cls) -> tuple[str, Any] | None:
        """The (value, label) of ``private_visibility`` among ``visibilities``; None when the
        network has no posts only the account sees."""
        for value, label in cls.visibilities:
            if value == cls.private_visibility:
                return value, label
        return None

    def post_link_problem(self, instance_url: str, url: str) -> str:
        """Why ``url``, a post link a server gave for an account on ``instance_url``, must not
        be shown (it could run script in the admin or on the public page, or lead elsewhere);
        "" when it may. See ``links.post_link_problem``."""
        return post_link_problem(url, {_origin(instance_url), *self.post_url_hosts})

    def secrets(self, credentials: Credentials) -> list[str]:
        """Every secret the plugin holds for the account: its access token (or app
        password), its session's tokens, and the site's app secrets this network uses."""
        values = [credentials.access_token]
        values += [credentials.session.get(key) for key in self.secret_session_keys]
        values += [get_setting(name) for name in self.secret_settings]
        return [value for value in values if isinstance(value, str) and value]

    def disconnect(self, credentials: Credentials, label: str) -> tuple[str, str]:
        """Revoke what the plugin holds for a removed account, named ``label`` in sentences
        (only called when ``disconnects``); return how it went as (level, sentence):
        "success", "info" (nothing this site can revoke) or "warning"."""
        raise NotImplementedError

    @abstractmethod
    def connect(self, credentials: Credentials) -> Any:
        """A client for the network's API acting with ``credentials`` (no request made yet)."""

    @abstractmethod
    def limits(self, credentials: Credentials) -> Limits:
        """What the server accepts; ``PermanentNetworkError`` if it does not say."""

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

    def update_post(
        self,
        client: Any,
        remote_id: str,
        post: Post,
        media_ids: list[str],
        changed: list[UploadedMedia],
    ) -> Published:
        """Replace the post's text and media; ``changed`` are attached media whose alt text
        or focus is new. A network whose posts cannot be edited (``edits = False``) keeps
        this one, which refuses with the network's label."""
        raise PermanentNetworkError(
            _("%(network)s posts cannot be edited.") % {"network": self.label}
        )

    @abstractmethod
    def delete_post(self, client: Any, remote_id: str) -> None:
        """Delete the post; a post that is already gone is not an error."""

    @abstractmethod
    def find_post(self, client: Any, url: str) -> Published | None:
        """The account's recent post that links to ``url``, if any."""

    def media_expires_at(self, client: Any, remote_id: str, uploaded_at: float) -> float | None:
        """When the server forgets a medium just uploaded unless a post uses it."""
        return None if self.media_lifetime is None else uploaded_at + self.media_lifetime

    def refused_unknown_media(self, err: PermanentNetworkError) -> bool:
        """Whether the server refused a post because it no longer knows one of its media."""
        words = str(err).lower()
        return err.status in (400, 404, 422) and "media" in words and "not found" in words

    def _upload(self, client: Any, media: Media) -> UploadedMedia:
        now = time.time()  # before the request: the server's day may start a moment later
        remote_id = self.upload_media(client, media)
        return UploadedMedia.of(
            media,
            remote_id,
            uploaded_at=now,
            expires_at=self.media_expires_at(client, remote_id, now),
        )

    def _still_known(self, uploaded: UploadedMedia) -> bool:
        """Whether the server still keeps an upload long enough to post with it."""
        if self.media_lifetime is None:
            return True
        expires_at = uploaded.expires_at
        return expires_at is not None and expires_at - MEDIA_EXPIRY_MARGIN > time.time()

    def _media_for_create(self, client, post: Post, known: dict, remember) -> list[str]:
        media_ids = []
        for media in post.media:
            earlier = known.get(media.source)
            if earlier is None or not earlier.shows(media) or not self._still_known(earlier):
                earlier = self._upload(client, media)
            remember(earlier)
            media_ids.append(earlier.remote_id)
        return media_ids

    def find_created(self, client: Any, post: Post) -> Published | None:
        """The post an earlier attempt at ``post`` may have made unseen (``post.created_at``
        says when that attempt was first made), if any."""
        return self.find_post(client, post.url)

    @property
    def key_always_honoured(self) -> bool:
        """Whether every server recognises a repeated create by its key (see above)."""
        return self.idempotency_window == timedelta.max

    def refused_over_limit(self, err: PermanentNetworkError) -> bool:
        """Whether the server refused a post for going over one of its limits (which may have
        changed since they were read: the worker reads them again and fits the post anew)."""
        return False

    def refused_too_long(self, err: PermanentNetworkError) -> bool:
        """Whether the server refused a post's text as too long (the worker then fits it
        again counting links at full length, as some servers count them)."""
        return False

    def publish(
        self,
        credentials: Credentials,
        post: Post,
        idempotency_key: str,
        *,
        uploaded: Iterable[UploadedMedia] = (),
        remember: Callable[[UploadedMedia], None] = _ignore,
        adopt_existing: bool = False,
        before_create: Callable[[], None] = lambda: None,
    ) -> Published:
        """Upload the images not uploaded yet, then post once. Each image the post uses is
        passed to ``remember`` as soon as the network has it; ``before_create`` is called just
        before the request that creates the post.

        ``idempotency_key`` is the same for every attempt at one publish, so a repeated request
        cannot create a second post. With ``adopt_existing``, a recent post linking to the
        page is taken as the post instead (for when an earlier attempt's outcome is unknown).
        """
        client = self.connect(credentials)
        if adopt_existing and (found := self.find_created(client, post)):
            return Published(found.remote_id, found.url, adopted=True)
        known = {u.source: u for u in uploaded}
        media_ids = self._media_for_create(client, post, known, remember)
        before_create()
        try:
            return self.create_post(client, post, media_ids, idempotency_key)
        except PermanentNetworkError as err:
            # Media kept from an earlier attempt that the server has forgotten (deleted
            # unused, expired): upload them again, once.
            reused = any(u.remote_id in media_ids for u in known.values())
            if not (reused and self.refused_unknown_media(err)):
                raise
        media_ids = self._media_for_create(client, post, {}, remember)
        return self.create_post(client, post, media_ids, idempotency_key)

    def update(
        self,
        credentials: Credentials,
        remote_id: str,
        post: Post,
        *,
        uploaded: Iterable[UploadedMedia] = (),
        remember: Callable[[UploadedMedia], None] = _ignore,
    ) -> Published:
        """Edit the post to show ``post``: images already attached are kept (with new alt text
        or focus if those changed), new images are uploaded, images left out are removed.

        A new alt text or focus is passed to ``remember`` only once the server has confirmed
        the edit (and shows it), so an edit that fails is sent again in full by the retry."""
        client = self.connect(credentials)
        known = {u.source: u for u in uploaded}
        media_ids, changed = [], []
        for media in post.media:
            earlier = known.get(media.source)
            if earlier is None:
                current = UploadedMedia.of(media, self.upload_media(client, media))
            else:
                current = UploadedMedia.of(media, earlier.remote_id)
            if earlier is None or earlier.shows(media):
                remember(current)  # an upload carries its alt text and focus
            else:
                changed.append(current)
            media_ids.append(current.remote_id)
        published = self.update_post(client, remote_id, post, media_ids, changed)
        for media in changed:
            remember(known[media.source] if published.media_kept else media)
        return published

    def delete(self, credentials: Credentials, remote_id: str) -> None:
        self.delete_post(self.connect(credentials), remote_id)
