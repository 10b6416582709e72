"""Talking to a coworking platform's API: one requests Session per source.

Every request has explicit connect and read timeouts, waits for the rate
limiter, and is retried with exponential backoff when the platform is busy
or failing (429, 503, Nexudus's 409...), honouring Retry-After (RFC 9110
10.2.3).  Blocking: callers run it in a thread pool, never on the reactor.
Messages name the method and path, never a query string, body or credential.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import attrs
import requests
import urllib3
from twisted.logger import Logger
from urllib3.exceptions import ReadTimeoutError

from ldapbridge import __version__
from ldapbridge.directory.observers import RefreshObserver, Unobserved
from ldapbridge.directory.ratelimit import Clock, Pause, RateLimiter
from ldapbridge.directory.sources import SourceError
from ldapbridge.directory.tokens import TokenKeeper
from ldapbridge.httpconfig import HttpSourceSettings

log = Logger(namespace="ldapbridge.directory")

# The longest exponential backoff between two attempts.
MAX_BACKOFF_S = 120.0
# Bodies are read in pieces of at most this, checking the deadline between.
BODY_CHUNK_BYTES = 256 * 1024


class HttpStatusError(SourceError):
    """The platform answered with an error status that retrying will not cure."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class UnreachableError(SourceError):
    """No answer: the connection failed or timed out."""


@attrs.frozen
class Reply:
    """A JSON answer: its decoded body, headers and the Link header's next."""

    status: int
    body: Any
    headers: Mapping[str, str]
    next_link: str


@attrs.frozen
class _Request:
    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    json_body: Any
    form: Mapping[str, str] | None

    @property
    def where(self) -> str:
        """Method and path: what messages may say about a request."""
        return f"{self.method} {_path(self.url)}"


@attrs.frozen
class _Attempt:
    response: requests.Response | None
    problem: str = ""
    delay_s: float | None = None  # None: back off exponentially
    body: bytes = b""


class _BodyUnreadable(Exception):
    """The answer's body did not arrive whole: broken, or too slow."""


class HttpClient:
    """Requests to one platform, with its credentials, limits and retries."""

    def __init__(
        self,
        settings: HttpSourceSettings,
        clock: Clock = time.monotonic,
        pause: Callable[[float], None] | None = None,
        observer: RefreshObserver | None = None,
    ) -> None:
        self.settings = settings
        self.observer: RefreshObserver = observer or Unobserved()
        self.limits = settings.client
        self.clock = clock
        self.pause = pause if pause is not None else Pause()
        self.session = _new_session(settings)
        # Given with each request: requests lets REQUESTS_CA_BUNDLE and
        # CURL_CA_BUNDLE override a session's own CA file, so that a
        # configured tls_ca_file would be ignored wherever they are set.
        self.verify: str | bool = self.limits.tls_ca_file or True
        self.limiter = self.new_limiter(self.limits.rate_per_minute)
        self.tokens = TokenKeeper(settings.auth, self._post_token_form, clock)

    def new_limiter(self, per_minute: int) -> RateLimiter:
        return RateLimiter(per_minute, 60.0, self.clock, self.pause)

    def url(self, target: str) -> str:
        """An absolute URL for a path of the platform, or ``target`` itself."""
        if urllib.parse.urlsplit(target).scheme:
            return target
        return self.settings.base_url + target

    def request_json(
        self,
        method: str,
        target: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        limiter: RateLimiter | None = None,
        authenticate: bool = True,
    ) -> Reply:
        """Send a request until it succeeds or retries run out.

        A 401 renews an OAuth2 token once.  Raises HttpStatusError for an
        error status, UnreachableError when the platform never answered, and
        SourceError for an answer that is not JSON.
        """
        request = _Request(method, self.url(target), tuple(params), json_body, form)
        limiters = [self.limiter] + ([limiter] if limiter else [])
        renewed = False
        attempt = 0
        while True:
            authorization = self.tokens.authorization() if authenticate else ""
            sent = self._send(request, authorization, limiters)
            response = sent.response
            if response is None:
                attempt += 1
                self._before_retry(request.where, sent, attempt)
            elif response.status_code == 401 and authenticate and not renewed:
                renewed = self.tokens.renew_after_refusal(authorization)
                if not renewed:
                    return self._reply(request.where, sent)
            else:
                return self._reply(request.where, sent)

    def _send(
        self, request: _Request, authorization: str, limiters: list[RateLimiter]
    ) -> _Attempt:
        """One attempt: wait for the limiters, send, and classify the outcome."""
        for limiter in limiters:
            limiter.acquire()
        self._check_stopping(request.where)
        headers = {"Authorization": authorization} if authorization else {}
        try:
            response = self.session.request(
                request.method,
                request.url,
                params=list(request.params),
                json=request.json_body,
                data=request.form,
                headers=headers,
                timeout=(self.limits.connect_timeout_s, self.limits.read_timeout_s),
                verify=self.verify,
                stream=True,
            )
        except requests.RequestException as e:
            self.observer.source_error(failure_kind(e))
            if untrusted_certificate(e):
                # The same certificate comes back on every retry.
                raise UnreachableError(f"{request.where}: {UNTRUSTED}") from None
            return _Attempt(None, self._describe(e))

        if response.status_code in self.limits.retry_statuses:
            self.observer.source_error(str(response.status_code))
            delay = retry_after(response.headers.get("Retry-After", ""))
            problem = f"HTTP {response.status_code}"
            response.close()
            return _Attempt(None, problem, delay)
        if response.status_code >= 400:
            return _Attempt(response)
        try:
            return _Attempt(response, body=self._read_body(request.where, response))
        except _BodyUnreadable as e:
            return _Attempt(None, str(e))

    def _read_body(self, where: str, response: requests.Response) -> bytes:
        """The whole body, within request_timeout_s and max_response_mb.

        The read timeout bounds each wait for data, not the whole answer: a
        platform sending a byte a second would hold a refresh for ever.
        Raises _BodyUnreadable (worth retrying) or SourceError (too large).
        """
        limits = self.limits
        deadline = time.monotonic() + limits.request_timeout_s
        most = limits.max_response_mb * 1024 * 1024
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(BODY_CHUNK_BYTES, decode_content=True):
                size += len(chunk)
                if size > most:
                    raise SourceError(
                        f"{where}: the answer is larger than max_response_mb "
                        f"({limits.max_response_mb} MB)"
                    )
                if time.monotonic() > deadline:
                    self.observer.source_error("timeout")
                    raise _BodyUnreadable(
                        f"the answer did not arrive whole within request_timeout_s "
                        f"({limits.request_timeout_s:g} s)"
                    )
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            kind = "timeout" if isinstance(e, TimeoutError | ReadTimeoutError) else ""
            self.observer.source_error(kind or "connection")
            raise _BodyUnreadable(
                f"the answer broke off after {size} bytes ({type(e).__name__})"
            ) from None
        finally:
            response.close()
        return b"".join(chunks)

    def _before_retry(self, where: str, sent: _Attempt, attempt: int) -> None:
        """Wait before the next attempt; raise when retrying is no use."""
        if attempt > self.limits.max_retries:
            tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
            error = f"{where}: gave up after {tries}; last: {sent.problem}"
            if sent.problem.startswith("HTTP"):
                raise SourceError(error)
            raise UnreachableError(error)

        delay = sent.delay_s
        if delay is None:
            backoff = self.limits.retry_backoff_s * 2 ** (attempt - 1)
            delay = min(MAX_BACKOFF_S, backoff)
        if delay > self.limits.retry_after_max_s:
            raise SourceError(
                f"{where}: {sent.problem}, asked to wait {_seconds(delay)} s, longer "
                f"than retry_after_max_s ({self.limits.retry_after_max_s:g} s)"
            )
        log.warn(
            "{where} failed ({problem}); retry {attempt} of {retries} in {delay:.2f} s",
            where=where,
            problem=sent.problem,
            attempt=attempt,
            retries=self.limits.max_retries,
            delay=delay,
        )
        self.pause(delay)
        self._check_stopping(where)

    def _check_stopping(self, where: str) -> None:
        if isinstance(self.pause, Pause) and self.pause.stopping:
            raise SourceError(f"{where}: stopped, the service is shutting down")

    def _reply(self, where: str, sent: _Attempt) -> Reply:
        """The decoded answer; HttpStatusError or SourceError if there is none."""
        response = sent.response
        assert response is not None
        if response.status_code >= 400:
            response.close()
            self.observer.source_error(str(response.status_code))
            raise HttpStatusError(
                f"{where}: HTTP {response.status_code}", response.status_code
            )
        try:
            # JSON between systems is UTF-8 (RFC 8259); json also reads the
            # UTF-16 and UTF-32 that requests would have guessed.
            body = json.loads(sent.body)
        except ValueError:
            self.observer.source_error("invalid")
            raise SourceError(
                f"{where}: the answer is not JSON (HTTP {response.status_code}, "
                f"{len(sent.body)} bytes)"
            ) from None
        next_link = response.links.get("next", {}).get("url", "")
        return Reply(response.status_code, body, response.headers, next_link)

    def _describe(self, error: requests.RequestException) -> str:
        limits = self.limits
        return describe_failure(error, limits.connect_timeout_s, limits.read_timeout_s)

    def _post_token_form(self, target: str, form: Mapping[str, str]) -> Any:
        return self.request_json("POST", target, form=form, authenticate=False).body

    def post_once(
        self,
        target: str,
        *,
        form: Mapping[str, str] | None,
        json_body: Any,
        timeout_s: float,
    ) -> int:
        """One POST without retries or the source's credentials; its status.

        Raises UnreachableError when there is no answer within ``timeout_s``, and
        RateLimitedError when the rate limit would make the caller wait longer.
        """
        self.limiter.acquire(max_wait_s=timeout_s)
        try:
            response = self.session.post(
                self.url(target),
                data=form,
                json=json_body,
                timeout=(timeout_s, timeout_s),
                allow_redirects=False,
                verify=self.verify,
                # Only the status counts: a slow body must not hold the bind.
                stream=True,
            )
        except requests.RequestException as e:
            raise UnreachableError(describe_failure(e, timeout_s, timeout_s)) from None
        response.close()
        return response.status_code

    def close(self) -> None:
        self.session.close()


def _new_session(settings: HttpSourceSettings) -> requests.Session:
    session = requests.Session()
    # No cookies: a member's password check must never ride on another's.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = f"ldapbridge/{__version__}"
    return session


UNTRUSTED = (
    "the platform's TLS certificate is not trusted; [source] tls_ca_file names "
    "the CA to trust if the platform's is private"
)


def untrusted_certificate(error: requests.RequestException) -> bool:
    """Whether ``error`` is a certificate that failed verification.

    requests keeps no error code of its own for it; OpenSSL's reason is in
    the text of every Python and OpenSSL version supported.
    """
    return isinstance(error, requests.exceptions.SSLError) and (
        "CERTIFICATE_VERIFY_FAILED" in str(error)
    )


def describe_failure(
    error: requests.RequestException, connect_s: float, read_s: float
) -> str:
    """Say what went wrong without the URL, which may carry parameters."""
    if untrusted_certificate(error):
        return UNTRUSTED
    if isinstance(error, requests.ConnectTimeout):
        return f"no connection within {connect_s:g} s"
    if isinstance(error, requests.Timeout):
        return f"no answer within {read_s:g} s"
    if isinstance(error, requests.ConnectionError):
        return f"cannot connect ({type(error).__name__})"
    return f"request failed ({type(error).__name__})"


def failure_kind(error: requests.RequestException) -> str:
    """The metrics label of a request that got no answer."""
    return "timeout" if isinstance(error, requests.Timeout) else "connection"


def _seconds(value: float) -> str:
    """3600, 0.25; a Retry-After date years ahead as digits, not 2.3e+09."""
    return f"{value:g}" if value < 1e6 else f"{value:.0f}"


def retry_after(value: str) -> float | None:
    """Seconds to wait from a Retry-After header: seconds or an HTTP date."""
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path or "/"
