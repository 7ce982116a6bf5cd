"""POST an event to a webhook, retrying what may pass, never revealing the URL.

The URL is read from the environment at delivery time and treated as a
secret (chat webhook URLs carry their token): every message this module
produces names the env var instead, and is passed through :func:`redact` in
case an error text from the network stack quoted the URL anyway.

Only the standard library is used (urllib), so notifications add no
dependency. Redirects are not followed: urllib would turn a redirected POST
into a GET without the body and report success for a message nobody got.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import IO
from urllib.parse import urlsplit

from eltkit import __version__
from eltkit.notify.config import WebhookSettings
from eltkit.notify.delivery import Delivery

USER_AGENT = f"eltkit/{__version__} (notifications)"
#: No single wait between attempts is longer than this, whatever retries and backoff say.
MAX_BACKOFF_S = 300.0
_SHOWN_BODY_CHARS = 120


def post_event(settings: WebhookSettings, body: bytes, *,
               sleep: Callable[[float], None]) -> Delivery:
    """POST ``body`` (JSON) to the URL in ``$url_env``; retry 5xx, 429 and network errors.

    Waits ``backoff``, ``2*backoff``, ``4*backoff``... between attempts (through
    ``sleep``, so tests and the scheduler control the clock); 3xx and 4xx other
    than 429 fail at once, since sending the same request again cannot help.
    """
    label = f"webhook ${settings.url_env}"
    url = os.environ.get(settings.url_env, "").strip()
    if not url:
        return Delivery("webhook", "failed", 0,
                        f"{label}: environment variable {settings.url_env} is not set")
    problem = _url_problem(url)
    if problem:
        return Delivery("webhook", "failed", 0, f"{label}: {problem}")

    opener = urllib.request.build_opener(_NoRedirects)
    most = settings.retries + 1
    attempt = 0
    while True:
        attempt += 1
        sent, retryable, what = _post_once(opener, url, body, settings.timeout)
        if sent or not retryable or attempt >= most:
            break
        sleep(min(settings.backoff * 2 ** (attempt - 1), MAX_BACKOFF_S))
    after = f" after {attempt} attempts" if attempt > 1 else ""
    return Delivery("webhook", "sent" if sent else "failed", attempt,
                    redact(f"{label}: {what}{after}", url))


def redact(text: str, url: str) -> str:
    """``text`` with the URL and each longer piece of it (host, path token) replaced by ***."""
    if not url:
        return text
    pieces = {url, *(piece for piece in re.split(r"[/?&=#:@;]", url) if len(piece) >= 8)}
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be posted to, in words that do not repeat it."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "the value is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the value is not an http:// or https:// URL"
    return None


def _post_once(opener: urllib.request.OpenerDirector, url: str, body: bytes,
               timeout: float) -> tuple[bool, bool, str]:
    """One POST: (sent, worth retrying, what happened)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            return True, False, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        with exc:
            code = exc.code
            if code >= 500 or code == 429:
                return False, True, f"HTTP {code}"
            if code < 400:
                return False, False, (f"HTTP {code} (redirects are not followed; "
                                      "set the final URL)")
            shown = _response_text(exc)
            return False, False, f"HTTP {code}{': ' + shown if shown else ''} (not retried)"
    except urllib.error.URLError as exc:
        return False, True, _describe(exc.reason, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return False, True, _describe(exc, timeout)


def _response_text(response: IO[bytes]) -> str:
    """The start of an error response's body: services say there what is wrong."""
    try:
        raw = response.read(_SHOWN_BODY_CHARS * 4)
    except (OSError, http.client.HTTPException):
        return ""
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text[:_SHOWN_BODY_CHARS]


def _describe(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"timed out ({timeout:g}s)"
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror).lower()
    if isinstance(reason, BaseException):
        return str(reason) or type(reason).__name__
    return str(reason)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                         msg: str, headers: http.client.HTTPMessage,
                         newurl: str) -> urllib.request.Request | None:
        return None
