"""Work in a forked child process, its results sent back through a pipe.

Used where a large import would otherwise leave the machine's second core idle: reading the
second half of a beancount file (``ledger.plaintext``) and building the rows of the next batch
while the current one is written (``ledger.posting.engine.write_new``). The child runs
only pure Python on what it inherited, never touches the database, and leaves with ``os._exit``.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

__all__ = ["ChildFailed", "available", "in_child"]


class ChildFailed(RuntimeError):
    """The child raised (its exception's type and message), or stopped without finishing."""


def available() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


@contextmanager
def in_child(produce: Callable[[], Iterable]) -> Iterator[Iterator]:
    """Fork now; the child runs ``produce()`` and sends each item it yields. The block gets an
    iterator over those items (raising ``ChildFailed`` if the child fails). Leaving the block,
    even early, closes the pipe (a child still sending stops) and reaps the child."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: produce and send, never return
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb") as out:
                try:
                    for item in produce():
                        pickle.dump(("item", item), out, protocol=pickle.HIGHEST_PROTOCOL)
                    message: tuple[str, str | None] = ("end", None)
                except Exception as exc:  # the parent raises it as ChildFailed
                    message = ("error", f"{type(exc).__name__}: {exc}")
                pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(0)
    os.close(write_fd)
    inp = os.fdopen(read_fd, "rb")
    try:
        yield _received(inp)
    finally:
        inp.close()
        os.waitpid(pid, 0)


def _received(inp) -> Iterator:
    while True:
        try:
            kind, value = pickle.load(inp)  # noqa: S301 (our own child, through our own pipe)
        except (EOFError, pickle.UnpicklingError):
            raise ChildFailed("the child process stopped before it finished") from None
        if kind == "end":
            return
        if kind == "error":
            raise ChildFailed(value)
        yield value
