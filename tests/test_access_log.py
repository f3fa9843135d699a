"""`exomirkg serve`'s access log: gunicorn's own line, written by the leaner AccessLogger."""

from __future__ import annotations

import base64
import datetime
import logging
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from exomirkg.web.front import AccessLogger


class _Response:
    def __init__(self, status: str, sent: int | None) -> None:
        self.status = status
        self.sent = sent
        self.headers = [("Content-Type", "text/plain"), ("X-Exomirkg-Rows", "1")]


class _Request:
    headers = [("HOST", "127.0.0.1:8000"), ("ACCEPT", "*/*")]


def _environ(**extra: str) -> dict[str, Any]:
    return {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1",
            "RAW_URI": "/sparql?query=ASK%7B%7D", "PATH_INFO": "/sparql",
            "QUERY_STRING": "query=ASK%7B%7D", "wsgi.url_scheme": "http", **extra}


CASES = {
    "plain": (_Response("200 OK", 29), _environ()),
    "quotes in the agent and referrer": (_Response("404 NOT FOUND", 61), _environ(
        HTTP_USER_AGENT='agent "quoted"', HTTP_REFERER='http://x/"y"')),
    "basic auth user, nothing sent": (_Response("304 NOT MODIFIED", None), _environ(
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"bob:secret").decode())),
    "a quote in the URL": (_Response("400 BAD REQUEST", 12), _environ(
        RAW_URI='/sparql?query="')),
}


def _line(logger_class: type[Logger], response: _Response, environ: dict[str, Any],
          access_log_format: str | None = None) -> str:
    config = Config()
    config.set("accesslog", "-")
    if access_log_format:
        config.set("access_log_format", access_log_format)
    logger = logger_class(config)
    logger.now = lambda: "[02/Dec/2026:12:00:00 +0000]"  # type: ignore[method-assign]
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger.access_log.handlers = [Keep()]
    logger.access(response, _Request(), environ, datetime.timedelta(microseconds=1500))
    assert len(lines) == 1, f"{logger_class.__name__} wrote {lines}"
    return lines[0]


@pytest.mark.parametrize("case", CASES)
def test_access_line_is_the_one_gunicorn_writes(case: str) -> None:
    response, environ = CASES[case]
    ours = _line(AccessLogger, response, environ)
    assert ours == _line(Logger, response, environ), "AccessLogger must write gunicorn's line"
    assert ours.startswith("127.0.0.1 - ")


def test_another_access_log_format_is_left_to_gunicorn() -> None:
    response, environ = CASES["plain"]
    custom = '%(h)s %({accept}i)s %({content-type}o)s %(D)s'
    assert _line(AccessLogger, response, environ, custom) == \
        _line(Logger, response, environ, custom) == "127.0.0.1 */* text/plain 1500"
