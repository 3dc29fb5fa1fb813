"""Helpers shared by the transparency tests."""

from tlog import notes


def checkpoint_of(note: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a signed checkpoint note."""
    cp = notes.parse_checkpoint(notes.parse_note(note).text)
    return cp.origin, cp.size, cp.root
