"""A bound on the whole wait of one request: a deadline of ``total_timeout`` seconds (default
60, or ``$SKR_HTTP_TIMEOUT``) over all its retries. Every attempt's connect and read time-outs
and every backoff are cut to what is left, and no retry starts after the deadline, so a server
that accepts connections and never answers costs about ``total_timeout`` seconds."""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from helpers.sources.errors import SourceConfigError

TIMEOUT_ENV = "SKR_HTTP_TIMEOUT"


DEFAULT_TOTAL_TIMEOUT = 60.0
"""Seconds one request may take, retries included (``$SKR_HTTP_TIMEOUT`` overrides)."""


ATTEMPT_TIMEOUT = (5.0, 30.0)
"""(connect, read) seconds of one attempt, cut to what is left of the total."""


MIN_ATTEMPT = 0.05


_RETRY_WINDOW = 0.5
"""No retry starts with less than this many seconds left: it could not get an answer."""


def total_timeout_from_env(default: float = DEFAULT_TOTAL_TIMEOUT) -> float:
    """``$SKR_HTTP_TIMEOUT`` seconds (a positive number), else ``default``."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SourceConfigError(f"{TIMEOUT_ENV}={raw!r} is not a positive number of seconds. "
                                f"Fix: e.g. {TIMEOUT_ENV}=60, or unset it for the default "
                                f"({DEFAULT_TOTAL_TIMEOUT:.0f} s).")
    return value


_deadline = threading.local()


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[float]:
    """Within this block (in this thread) HTTP attempts and backoffs end by ``now + seconds``."""
    previous = getattr(_deadline, "at", None)
    _deadline.at = time.monotonic() + seconds
    try:
        yield _deadline.at
    finally:
        _deadline.at = previous


def remaining() -> float:
    """Seconds left before the current deadline (``inf`` outside :func:`request_deadline`)."""
    at = getattr(_deadline, "at", None)
    return math.inf if at is None else at - time.monotonic()


class DeadlineTimeout(Timeout):
    """urllib3 time-outs cut to what is left of the request's deadline at each attempt."""

    @property
    def connect_timeout(self) -> float | None:  # type: ignore[override]
        return _cut(super().connect_timeout)

    @property
    def read_timeout(self) -> float | None:  # type: ignore[override]
        return _cut(super().read_timeout)

    def clone(self) -> DeadlineTimeout:
        return DeadlineTimeout(connect=self._connect, read=self._read, total=self.total)


def _cut(value: Any) -> Any:
    left = remaining()
    if left == math.inf or not isinstance(value, int | float):
        return value
    return max(MIN_ATTEMPT, min(value, left))


class DeadlineRetry(Retry):
    """urllib3 ``Retry`` that starts no retry after the deadline and sleeps no longer than it."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None):
        if remaining() <= _RETRY_WINDOW:
            reason = error or ResponseError(
                ResponseError.SPECIFIC_ERROR.format(status_code=getattr(response, "status", 0)))
            raise MaxRetryError(_pool, url, reason) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep_for_retry(self, response) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            time.sleep(max(0.0, min(retry_after, remaining() - _RETRY_WINDOW)))
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = min(self.get_backoff_time(), remaining() - _RETRY_WINDOW)
        if backoff > 0:
            time.sleep(backoff)


def is_read_timeout(exc: BaseException) -> bool:
    """True when the connection was made and the answer did not come in time."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, ReadTimeoutError):
            return True
        if isinstance(item, MaxRetryError):
            stack.append(item.reason)
        if isinstance(item, BaseException):
            stack.extend(item.args)
            stack.append(item.__cause__)
            stack.append(item.__context__)
    return False
