"""Work a stop request must not cut in half: a basket's legs sent or closed together.

Ctrl+C and the stop signals raise ``KeyboardInterrupt`` wherever the main thread stands
(``app.termination``).  Between two legs of an entry that leaves a basket half built, an
unhedged position at the broker (one leg filled, the others never sent); between two legs
of an exit, a basket half closed; between the journal's basket row and the first order, a
basket with no order at all.  While the main thread is inside :func:`uninterrupted`, the
handlers keep the request (:func:`defer`) instead of raising it, and the outermost section
raises it as it ends: the basket is whole, or wholly unwound, before the command stops.

A section lasts as long as its orders: each is bounded by the terminal's own timeout.  The
state is per thread, and signals are handled in the main thread only, so an engine on
another thread (the console's) is never deferred here; its own stop waits for its step.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_state = threading.local()


def deferring() -> bool:
    """Whether this thread is inside a section (a stop request must wait)."""
    return getattr(_state, "depth", 0) > 0


def defer(request: BaseException) -> None:
    """Keep ``request`` (the first one) for the end of this thread's outermost section."""
    if getattr(_state, "pending", None) is None:
        _state.pending = request


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A section a stop request waits for; sections nest, and the outermost one raises the
    request kept meanwhile, if any, when it ends (unless an exception is already on its
    way up, which then goes first)."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    except BaseException:
        _state.depth -= 1
        if _state.depth == 0:
            _state.pending = None  # the stop is kept where it was requested (app.termination)
        raise
    _state.depth -= 1
    if _state.depth == 0:
        pending, _state.pending = getattr(_state, "pending", None), None
        if pending is not None:
            raise pending
