"""``XNetwork``: X behind the ``Network`` interface, through ``XClient``."""

from urllib.parse import quote

from wagtail_syndicate.exceptions import (
    ConfigurationError,
    PermanentNetworkError,
)
from wagtail_syndicate.networks.base import (
    AccountInfo,
    Credentials,
    Network,
    Published,
)
from wagtail_syndicate.networks.limits import Limits
from wagtail_syndicate.networks.links import _origin
from wagtail_syndicate.networks.post import Media, Post
from wagtail_syndicate.networks.x.client import (
    MEDIA_LIFETIME,
    X_LIMITS,
    XClient,
    post_url,
    web_base,
)


def _links_to(tweet: dict, url: str) -> bool:
    wanted = url.rstrip("/")
    urls = ((tweet.get("entities") or {}).get("urls")) or []
    expanded = [u.get("expanded_url") or "" for u in urls if isinstance(u, dict)]
    return any(e.rstrip("/") == wanted for e in expanded) or url in (tweet.get("text") or "")


class XNetwork(Network):
    name = "x"
    label = "X"
    edits = False
    deletes = True
    idempotency_window = None
    default_limits = X_LIMITS
    limits_from_server = False
    default_instance_url = "https://api.x.com"
    # X forgets a medium no post uses after the ``expires_after_secs`` its upload answers.
    media_lifetime = float(MEDIA_LIFETIME)

    @property
    def post_url_hosts(self) -> tuple[str, ...]:
        """Post links are made here (``post_url``) on x.com (twitter.com is its former name),
        or on the stand-in ``X_WEB_URL`` names."""
        return ("x.com", "twitter.com", _origin(web_base()))

    secret_session_keys = ("access_token", "refresh_token", "token_secret")
    secret_settings = ("X_CLIENT_SECRET", "X_CONSUMER_SECRET")

    def connect(self, credentials: Credentials) -> XClient:
        return XClient(credentials)

    def limits(self, credentials: Credentials) -> Limits:
        return self.default_limits

    def verify(self, credentials: Credentials) -> AccountInfo:
        try:
            client = self.connect(credentials)
        except ConfigurationError as err:  # said where the token is entered, not a crash
            raise PermanentNetworkError(str(err)) from err
        me = client.me()
        username = str(me["username"])
        if not client.session.get("refresh_token"):
            # A pasted token: keep whose it is, so posts are linked without asking each time.
            session = {**client.session, "user_id": str(me["id"]), "username": username}
            credentials.save_session({**session, "oauth1": True} if client.oauth1 else session)
        return AccountInfo(
            handle=f"@{username}",
            remote_id=str(me["id"]),
            profile_url=f"{web_base()}/{quote(username)}",
        )

    def upload_media(self, client: XClient, media: Media) -> str:
        return client.upload_media(media)

    def media_expires_at(self, client: XClient, remote_id: str, uploaded_at: float) -> float:
        return client.media_expiry.get(remote_id, uploaded_at + MEDIA_LIFETIME)

    def refused_unknown_media(self, err: PermanentNetworkError) -> bool:
        words = str(err).lower()
        return (
            err.status == 400 and "media" in words and ("invalid" in words or "not found" in words)
        )

    def create_post(
        self, client: XClient, post: Post, media_ids: list[str], idempotency_key: str
    ) -> Published:
        data = client.create_tweet(post.text, media_ids)
        _user_id, username = client.identity()
        return Published(remote_id=str(data["id"]), url=post_url(username, str(data["id"])))

    def delete_post(self, client: XClient, remote_id: str) -> None:
        client.delete_tweet(remote_id)

    def find_post(self, client: XClient, url: str) -> Published | None:
        for tweet in client.recent_tweets():
            if tweet.get("id") and _links_to(tweet, url):
                _user_id, username = client.identity()
                return Published(remote_id=str(tweet["id"]), url=post_url(username, tweet["id"]))
        return None
