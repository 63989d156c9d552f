"""HTML for humans: status content formatting and the small browsable pages.

Everything user-provided goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from ._counting import links as find_links

__all__ = [
    "article",
    "consent_page",
    "feed_page",
    "figure",
    "format_content",
    "index_page",
    "not_found_page",
    "oauth_error_page",
    "oob_code_page",
    "page",
    "status_page",
]

MASTODON = "a Mastodon server"

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; background: #f6f6fb; }
header { border-bottom: 2px solid #6364ff; margin-bottom: 1.5rem; }
header a { color: #6364ff; text-decoration: none; font-weight: bold; }
article { background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 1rem;
          margin-bottom: 1rem; }
.meta { color: #666; font-size: .85rem; }
.cw { background: #fff4d6; padding: .25rem .5rem; border-radius: 4px; }
figure { margin: .75rem 0; }
img { max-width: 100%; border-radius: 4px; }
figcaption { font-size: .9rem; color: #444; background: #f0f0f0; padding: .25rem .5rem; }
.missing-alt { color: #b00; }
.empty { color: #666; font-style: italic; }
.actions button { font: inherit; padding: .5rem 1.25rem; border-radius: 6px; cursor: pointer;
                  border: 1px solid #6364ff; margin-right: .5rem; }
.actions .authorize { background: #6364ff; color: #fff; }
.actions .deny { background: #fff; color: #6364ff; }
code { background: #eee; padding: .1rem .3rem; border-radius: 3px; }
"""


def _links(text: str):
    """The http(s) URLs of ``text`` as Mastodon finds them: ``(start, end, url)``."""
    for start, end in find_links(text):
        yield start, end, text[start:end]


def _linkify(text: str, links=None) -> str:
    """Escape ``text`` and turn ``links`` (``(start, end, url)``: that part of the text links
    to ``url``; default: its http(s) URLs, as Mastodon does) into links."""
    out: list[str] = []
    pos = 0
    for start, end, url in _links(text) if links is None else sorted(links):
        if start < pos:
            continue  # overlapping: the first wins
        out.append(html.escape(text[pos:start]))
        shown = text[start:end].split("://", 1)[-1]
        shown = shown if len(shown) <= 30 else shown[:30] + "\u2026"
        out.append(
            f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="nofollow noopener">'
            f"{html.escape(shown)}</a>"
        )
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def format_content(text: str, links=None) -> str:
    """Plain status text to Mastodon-style HTML: ``<p>`` per paragraph,
    ``<br />`` per line break, escaped, with links (``links``: see :func:`_linkify`)."""
    content = _linkify(text, links).replace("\r\n", "\n").strip("\n")
    if not content:
        return ""
    paragraphs = re.split(r"\n{2,}", content)
    return "".join("<p>" + p.replace("\n", "<br />") + "</p>" for p in paragraphs)


def page(title: str, body: str, server: str = "FakeMastodon", what: str = MASTODON) -> bytes:
    """A whole page of the fake ``server`` ("FakeX"), "a local stand-in for ``what``"."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<header><p><a href="/">{html.escape(server)}</a> &middot; '
        f"a local stand-in for {html.escape(what)}</p></header>"
        f"{body}</body></html>\n"
    ).encode()


def figure(src: str, alt: str, note: str = "") -> str:
    """An image with its alt text shown below it; ``note`` is HTML added to the caption."""
    caption = (
        f"Alt text: {html.escape(alt)}" if alt else '<span class="missing-alt">No alt text</span>'
    )
    if note:
        caption += f" &middot; {note}"
    return (
        f'<figure><img src="{html.escape(src, quote=True)}" alt="{html.escape(alt, quote=True)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def article(meta: str, content: str, figures: Iterable[str] = ()) -> str:
    """One post: ``meta`` (who, when: HTML), its ``content`` (HTML) and its ``figures``."""
    return f'<article><p class="meta">{meta}</p>{content}{"".join(figures)}</article>'


def feed_page(
    articles: list[str], title: str, server: str = "FakeMastodon", what: str = MASTODON
) -> bytes:
    """A page listing posts (``articles``, newest first)."""
    body = "".join(articles) or '<p class="empty">Nothing posted yet.</p>'
    return page(f"{server}: {title}", f"<h1>{html.escape(title)}</h1>{body}", server, what)


def _figure(media) -> str:
    focus = media["meta"].get("focus")
    shown = ("-" if v is None else f"{v:g}" for v in (focus or {}).values())
    note = f"focus ({', '.join(shown)})" if focus else ""
    return figure(media["url"] or media["preview_url"], media["description"] or "", note)


def _article(status: dict, link: bool) -> str:
    account = status["account"]
    when = html.escape(status["created_at"])
    if link:
        when = f'<a href="{html.escape(status["url"], quote=True)}">{when}</a>'
    meta = [
        f"@{html.escape(account['acct'])} &middot; {when}"
        f" &middot; visibility: {html.escape(status['visibility'])}"
    ]
    if status.get("edited_at"):
        meta.append(" &middot; edited")
    if status.get("language"):
        meta.append(f" &middot; language: {html.escape(status['language'])}")
    content = status["content"]
    if status["spoiler_text"]:
        content = f'<p class="cw">CW: {html.escape(status["spoiler_text"])}</p>' + content
    return article("".join(meta), content, map(_figure, status["media_attachments"]))


def index_page(statuses: list[dict], title: str = "All posts") -> bytes:
    """``statuses`` are status JSON dicts, newest first."""
    return feed_page([_article(s, link=True) for s in statuses], title)


def status_page(status: dict) -> bytes:
    title = f"@{status['account']['acct']}: post {status['id']}"
    return page(title, _article(status, link=False))


def not_found_page(server: str = "FakeMastodon", what: str = MASTODON) -> bytes:
    return page("Not found", "<h1>Not found</h1><p>There is nothing here.</p>", server, what)


def consent_page(
    *, app_name: str, website: str | None, scopes: list[str], username: str, fields: dict
) -> bytes:
    """The page where the signed-in user authorizes an application, or denies it."""
    name = html.escape(app_name)
    if website:
        name = f'<a href="{html.escape(website, quote=True)}">{name}</a>'
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k, quote=True)}" '
        f'value="{html.escape(v, quote=True)}">'
        for k, v in fields.items()
    )
    items = "".join(f"<li><code>{html.escape(scope)}</code></li>" for scope in scopes)
    body = (
        "<h1>Authorization required</h1>"
        f'<article><p class="meta">Signed in as @{html.escape(username)}</p>'
        f"<p><strong>{name}</strong> would like permission to access your account. "
        "It is a third-party application. If you do not trust it, do not authorize it.</p>"
        f'<p>It asks for:</p><ul class="scopes">{items}</ul>'
        f'<form method="post" action="/oauth/authorize" class="actions">{hidden}'
        f'<input type="hidden" name="username" value="{html.escape(username, quote=True)}">'
        '<button type="submit" name="decision" value="authorize" class="authorize">'
        "Authorize</button>"
        '<button type="submit" name="decision" value="deny" class="deny">Deny</button>'
        "</form></article>"
    )
    return page("FakeMastodon: Authorization required", body)


def oauth_error_page(error: str, description: str) -> bytes:
    return page(
        "An error has occurred",
        f"<h1>An error has occurred</h1><p><code>{html.escape(error)}</code></p>"
        f"<p>{html.escape(description)}</p>",
    )


def oob_code_page(code: str) -> bytes:
    return page(
        "Authorization code",
        "<h1>Authorization code</h1><p>Copy this authorization code and paste it to the "
        f"application.</p><p><code>{html.escape(code)}</code></p>",
    )
