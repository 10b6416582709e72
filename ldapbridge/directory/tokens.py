"""A source's credentials as an Authorization header, tokens kept fresh.

OAuth2 tokens (RFC 6749 4.3 password grant, 4.4 client credentials) are
cached and renewed before they expire, or at once when the platform refuses
one (HTTP 401).  The header value is a secret: it is never logged.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from typing import Any

from twisted.logger import Logger

from ldapbridge.directory.ratelimit import Clock
from ldapbridge.directory.sources import SourceError
from ldapbridge.httpconfig import AuthSettings

log = Logger(namespace="ldapbridge.directory")

# Renew once this share of a token's lifetime has passed, so that a request
# never leaves with a token about to expire.
RENEW_AT = 0.9

# Lifetime assumed when the token endpoint does not say (RFC 6749 5.1 makes
# expires_in optional).
DEFAULT_LIFETIME_S = 3600.0

PostForm = Callable[[str, Mapping[str, str]], Any]


class TokenKeeper:
    """The Authorization header for each request, per the source's auth."""

    def __init__(self, auth: AuthSettings, post_form: PostForm, clock: Clock) -> None:
        self.auth = auth
        self.post_form = post_form
        self.clock = clock
        self._token = ""
        self._renew_at = 0.0
        self._lock = threading.Lock()

    @property
    def renewable(self) -> bool:
        return self.auth.kind in ("client_credentials", "password_grant")

    def authorization(self) -> str:
        """The header value ("" for none); may request a token (SourceError)."""
        kind = self.auth.kind
        if kind == "basic":
            pair = f"{self.auth.username}:{self.auth.password}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if kind == "bearer":
            return "Bearer " + self.auth.token
        if not self.renewable:
            return ""

        with self._lock:
            if not self._token or self.clock() >= self._renew_at:
                self._obtain()
            return "Bearer " + self._token

    def renew_after_refusal(self, refused: str) -> bool:
        """Forget a token the platform refused; False if renewing is no use."""
        if not self.renewable:
            return False
        log.info("the platform refused the access token (HTTP 401); renewing it")
        with self._lock:
            if "Bearer " + self._token == refused:
                self._token = ""
        return True

    def _obtain(self) -> None:
        """Ask the token endpoint; raise SourceError when it says no."""
        started = self.clock()
        try:
            body = self.post_form(self.auth.token_path, self._grant())
        except SourceError as e:
            raise SourceError(f"cannot obtain an access token: {e}") from None

        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceError("the token endpoint's answer has no access_token")
        lifetime = _lifetime(body.get("expires_in"))
        self._token = token
        self._renew_at = started + lifetime * RENEW_AT
        log.info("obtained an access token valid for {lifetime:g} s", lifetime=lifetime)

    def _grant(self) -> dict[str, str]:
        auth = self.auth
        if auth.kind == "password_grant":
            form = {"grant_type": "password", "username": auth.username}
            form["password"] = auth.password
        else:
            form = {"grant_type": "client_credentials"}
        if auth.client_id:
            form["client_id"] = auth.client_id
        if auth.client_secret:
            form["client_secret"] = auth.client_secret
        if auth.scope:
            form["scope"] = auth.scope
        return form


def _lifetime(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return float(value)
    return DEFAULT_LIFETIME_S
