"""Complete answers kept by the web process, so a query asked again costs no evaluation.

The embedded store is read-only while the server runs (it is loaded once per process), so an
answer depends only on the job: the query text, the media type, the row cap, the dataset and
the base IRI (:class:`~exomirkg.sparql.engine.Job`, the key). Only complete evaluations are
kept (``kind == "ok"``); refusals, errors, time-outs and memory stops are not, so the limits
apply to every text until it has once been answered within them. A text that may call a
function whose value changes from one evaluation to the next (``RAND``, ``NOW``, ``UUID``,
``STRUUID``, ``BNODE``; a code point escape could hide one) is never kept.

Bounded in bytes, least recently used first out; one answer may take at most a sixteenth of
the room, so a few large answers cannot flush the many small ones. Repeated texts are the
common case of an endpoint behind pages and notebooks (the same example queries, the same
lookups), and a repeated heavy query is then no load at all. An external engine's data can
change behind the server, so its answers are never kept (``web/state.py`` makes no cache).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from exomirkg.sparql.engine import Job, Outcome

__all__ = ["AnswerCache", "keeps"]

#: SPARQL 1.1 functions whose value is not fixed by the data, as words in any case (comments
#: may stand between a name and its bracket; a prefixed name or variable so called is
#: taken for one: keeping less is safe).
_VOLATILE = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID|BNODE)\b", re.IGNORECASE)
#: What one kept answer costs besides its body (key, outcome, the order's links).
_OVERHEAD = 512


def keeps(query: str) -> bool:
    """Whether an answer to ``query`` may be kept: it names no volatile function.

    >>> keeps("SELECT ?s { ?s a <x:y> }"), keeps("SELECT (rand() AS ?r) {}")
    (True, False)
    >>> keeps("SELECT ?s { ?s <x:p> '\\\\u0052AND(' }")  # an escape: not read, not kept
    False
    """
    if "\\u" in query or "\\U" in query:
        return False
    return _VOLATILE.search(query) is None


def _size(job: Job, outcome: Outcome) -> int:
    return len(outcome.body) + len(job.query) + _OVERHEAD


class AnswerCache:
    """Outcomes by job, at most ``limit`` bytes in all; safe to share between threads."""

    def __init__(self, limit: int) -> None:
        """:param limit: bytes the kept answers may take (bodies and per-answer overhead)."""
        self.limit = limit
        self.largest = limit // 16
        self.used = 0
        self._answers: OrderedDict[Job, Outcome] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job: Job) -> Outcome | None:
        """The kept outcome of ``job``, or None."""
        with self._lock:
            outcome = self._answers.get(job)
            if outcome is not None:
                self._answers.move_to_end(job)
            return outcome

    def put(self, job: Job, outcome: Outcome) -> bool:
        """Keep a complete answer (making room); whether it was kept."""
        size = _size(job, outcome)
        if outcome.kind != "ok" or size > self.largest or not keeps(job.query):
            return False
        with self._lock:
            old = self._answers.pop(job, None)
            if old is not None:
                self.used -= _size(job, old)
            self._answers[job] = outcome
            self.used += size
            while self.used > self.limit:
                self.used -= _size(*self._answers.popitem(last=False))
        return True
