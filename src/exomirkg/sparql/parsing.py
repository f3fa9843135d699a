"""rdflib's SPARQL parser, run on a thread of its own.

rdflib parses with pyparsing, whose backtracking leaves exceptions, their tracebacks and
frames in reference cycles. In CPython a frame kept past its return links its caller's
frame, which then keeps its locals past its own return, and so on up the stack: whatever
the callers of a parse held stayed alive until the cyclic collector ran. In a watching
build that was the build store, the shapes' store and 267 MB of N-Triples text at 10^6
triples, whose freeing then took 2.2 s at some later point of another step; pyoxigraph
objects so freed in another thread leak ("unsendable"). On a thread of its own a parse's
cycles reach only that thread's frames, which hold the text and little else.

One thread also takes the parses one at a time: rdflib's parser is not thread-safe (two
threads parsing at once failed with a pyparsing TypeError).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["QuerySyntaxError", "parse_query", "parsed"]

T = TypeVar("T")


class QuerySyntaxError(ValueError):
    """What the parsing raised (pyparsing's ParseException, a parse action's error), as
    its message; a RecursionError or MemoryError stays one (:data:`_KEPT`)."""


#: Failures of the machine, not of the text: raised as their own kind.
_KEPT = (RecursionError, MemoryError)


_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_here = threading.local()  # set on the parser thread


def _forget() -> None:
    """In a forked child the parent's thread is gone: start another on first use."""
    global _executor, _lock
    _executor, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget)


def _mark() -> None:
    _here.parser = True


def parsed(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on the parser thread (for rdflib's parsing and translating).

    :raises QuerySyntaxError: it raised an exception (with its message); RecursionError
        and MemoryError as themselves."""
    global _executor
    if getattr(_here, "parser", False):  # already there: waiting on itself would never end
        done, value = _call(function, args)
    else:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=1, initializer=_mark,
                                               thread_name_prefix="exomirkg-sparql-parser")
            executor = _executor
        done, value = executor.submit(_call, function, args).result()
    if done:
        return value
    kind, message = value
    # A new exception, not the one raised on the parser thread: that one is part of the
    # parse's cycles, and raising it here would take this thread's frames into them.
    raise next((own for own in _KEPT if issubclass(kind, own)), QuerySyntaxError)(message)


def _call(function: Callable[..., T], args: tuple[Any, ...]) -> tuple[bool, Any]:
    try:
        return True, function(*args)
    except Exception as error:  # noqa: BLE001 - told to the caller
        return False, (type(error), str(error))


def parse_query(text: str) -> Any:
    """rdflib's ``parseQuery(text)``, on the parser thread."""
    from rdflib.plugins.sparql.parser import parseQuery

    return parsed(parseQuery, text)
