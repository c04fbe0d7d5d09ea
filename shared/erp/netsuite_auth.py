"""NetSuite token-based authentication (TBA): OAuth 1.0a, HMAC-SHA256, one signature per request.

NetSuite's REST web services take ``Authorization: OAuth realm="<ACCOUNT>", oauth_consumer_key=..., oauth_token=...,
oauth_signature_method="HMAC-SHA256", oauth_timestamp=..., oauth_nonce=..., oauth_version="1.0",
oauth_signature=...``. The signature follows RFC 5849 section 3.4: the base string is the method, the URL without
its query, and the sorted, percent-encoded oauth and query parameters. A JSON body is not signed (only form bodies
are). The realm is the account id in upper case with ``_`` (``1234567_SB1``).

As an ``httpx.Auth`` this runs on every send, so each retry gets a fresh nonce and timestamp: NetSuite refuses a
reused nonce with the same 401 as a wrong key.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Iterable
from urllib.parse import quote

import httpx

SIGNATURE_METHOD = "HMAC-SHA256"  # what NetSuite TBA signs with; the realm is sent but not signed


class TokenBasedAuth(httpx.Auth):
    def __init__(
        self,
        *,
        account_id: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.realm = account_id.upper().replace("-", "_")
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._token_id = token_id
        self._token_secret = token_secret
        self._clock = clock
        self._nonce = nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.header(request.method, request.url)
        yield request

    def header(self, method: str, url: httpx.URL) -> str:
        oauth = {
            "oauth_consumer_key": self._consumer_key,
            "oauth_token": self._token_id,
            "oauth_signature_method": SIGNATURE_METHOD,
            "oauth_timestamp": str(int(self._clock())),
            "oauth_nonce": self._nonce(),
            "oauth_version": "1.0",
        }
        oauth["oauth_signature"] = signature(
            method,
            _base_url(url),
            [*oauth.items(), *url.params.multi_items()],
            self._consumer_secret,
            self._token_secret,
        )
        fields = [("realm", self.realm), *oauth.items()]
        return "OAuth " + ", ".join(f'{name}="{_encode(value)}"' for name, value in fields)


def signature(
    method: str,
    base_url: str,
    params: Iterable[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
    *,
    digest: str = "sha256",
) -> str:
    """RFC 5849 section 3.4.2: base64 HMAC of the signature base string under ``consumer_secret&token_secret``."""
    pairs = sorted((_encode(name), _encode(value)) for name, value in params)
    normalized = "&".join(f"{name}={value}" for name, value in pairs)
    base_string = "&".join((method.upper(), _encode(base_url), _encode(normalized)))
    key = f"{_encode(consumer_secret)}&{_encode(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base_string.encode(), digest).digest()).decode()


def _base_url(url: httpx.URL) -> str:
    """Scheme and host in lower case, the port only when it is not the scheme's default, the path as sent."""
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    port = f":{url.port}" if url.port is not None and url.port != default_port else ""
    path = url.raw_path.split(b"?", 1)[0].decode("ascii")
    return f"{url.scheme.lower()}://{url.host.lower()}{port}{path}"


def _encode(value: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is percent-encoded, spaces as %20.
    return quote(value, safe="~")
