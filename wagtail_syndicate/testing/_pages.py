"""HTML for humans: status content formatting and the small browsable pages.

Everything user-provided goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import re

from ..text import URL_RE, url_end

__all__ = [
    "consent_page",
    "format_content",
    "index_page",
    "not_found_page",
    "oauth_error_page",
    "oob_code_page",
    "status_page",
]

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


def _linkify(text: str) -> str:
    """Escape ``text`` and turn http(s) URLs into links (as Mastodon does)."""
    out: list[str] = []
    pos = 0
    for match in URL_RE.finditer(text):
        end = url_end(text, match.start(), match.end())
        url = text[match.start() : end]
        if url.lower() in ("http://", "https://"):
            continue
        out.append(html.escape(text[pos : match.start()]))
        shown = url.split("://", 1)[1]
        shown = shown if len(shown) <= 30 else shown[:30] + "\u2026"
        out.append(
            f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="nofollow noopener">'
            f"{html.escape(shown)}</a>"
        )
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def format_content(text: str) -> str:
    """Plain status text to Mastodon-style HTML: ``<p>`` per paragraph,
    ``<br />`` per line break, escaped, with links."""
    text = text.replace("\r\n", "\n").strip("\n")
    if not text:
        return ""
    paragraphs = re.split(r"\n{2,}", text)
    return "".join("<p>" + _linkify(p).replace("\n", "<br />") + "</p>" for p in paragraphs)


def _page(title: str, body: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        '<header><p><a href="/">FakeMastodon</a> &middot; '
        "a local stand-in for a Mastodon server</p></header>"
        f"{body}</body></html>\n"
    ).encode()


def _figure(media) -> str:
    src = html.escape(media["url"] or media["preview_url"], quote=True)
    alt = media["description"] or ""
    caption = (
        f"Alt text: {html.escape(alt)}" if alt else '<span class="missing-alt">No alt text</span>'
    )
    focus = media["meta"].get("focus")
    if focus:
        caption += f" &middot; focus ({focus['x']:g}, {focus['y']:g})"
    return (
        f'<figure><img src="{src}" alt="{html.escape(alt, quote=True)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _article(status: dict, link: bool) -> str:
    account = status["account"]
    when = html.escape(status["created_at"])
    if link:
        when = f'<a href="{html.escape(status["url"], quote=True)}">{when}</a>'
    parts = [
        f'<article><p class="meta">@{html.escape(account["acct"])} &middot; {when}'
        f" &middot; visibility: {html.escape(status['visibility'])}"
    ]
    if status.get("edited_at"):
        parts.append(" &middot; edited")
    if status.get("language"):
        parts.append(f" &middot; language: {html.escape(status['language'])}")
    parts.append("</p>")
    if status["spoiler_text"]:
        parts.append(f'<p class="cw">CW: {html.escape(status["spoiler_text"])}</p>')
    parts.append(status["content"])
    parts.extend(_figure(m) for m in status["media_attachments"])
    parts.append("</article>")
    return "".join(parts)


def index_page(statuses: list[dict], title: str = "All posts") -> bytes:
    """``statuses`` are status JSON dicts, newest first."""
    if statuses:
        body = "".join(_article(s, link=True) for s in statuses)
    else:
        body = '<p class="empty">Nothing posted yet.</p>'
    return _page(f"FakeMastodon: {title}", f"<h1>{html.escape(title)}</h1>{body}")


def status_page(status: dict) -> bytes:
    title = f"@{status['account']['acct']}: post {status['id']}"
    return _page(title, _article(status, link=False))


def not_found_page() -> bytes:
    return _page("Not found", "<h1>Not found</h1><p>There is nothing here.</p>")


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
    return _page("FakeMastodon: Authorization required", body)


def oauth_error_page(error: str, description: str) -> bytes:
    return _page(
        "An error has occurred",
        f"<h1>An error has occurred</h1><p><code>{html.escape(error)}</code></p>"
        f"<p>{html.escape(description)}</p>",
    )


def oob_code_page(code: str) -> bytes:
    return _page(
        "Authorization code",
        "<h1>Authorization code</h1><p>Copy this authorization code and paste it to the "
        f"application.</p><p><code>{html.escape(code)}</code></p>",
    )
