"""The password rule (issue 9 item 8): one check for every place a password is set.

Length alone let ``12345678``, eight spaces and the username through. The rule now:
8 to 256 characters, not only spaces, not the person's own names (username, display name …)
nor contained in them, and not easy to guess by zxcvbn's estimate (common passwords, words,
keyboard walks, dates, repeats; zxcvbn is MIT-licensed, compatible with the AGPL).
The messages are ours, so they are translated; zxcvbn's own feedback is English only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 256
# zxcvbn refuses inputs past 72 characters; a longer password is judged by its first 72.
_ZXCVBN_MAX = 72
# zxcvbn's score: 0 too guessable … 4 very unguessable. 3 is "safely unguessable" (~10^8 guesses).
MIN_SCORE = 3
# zxcvbn keeps the user inputs of the current call in a module-level dictionary: two threads
# checking at once could see each other's names. The lock makes each check see its own.
_ZXCVBN_LOCK = threading.Lock()


def _refuse(message) -> None:
    raise InvalidInput(message, errors={"password": [str(message)]})


def check_new_password(password: str, *, user_inputs: Iterable[str | None] = ()) -> None:
    """Raise InvalidInput (with a translated message) unless ``password`` may be set.

    ``user_inputs``: the person's own words (username, display name, e-mail …): a password
    that is one of them, or contains one of them, is refused."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        _refuse(_l("The password must have at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        _refuse(_l("The password may have at most %(n)d characters.", n=MAX_LENGTH))
    if not password.strip():
        _refuse(_l("The password cannot be only spaces."))
    names = [n.strip().lower() for n in user_inputs if n and len(n.strip()) >= 3]
    lowered = password.lower()
    if any(n in lowered or lowered in n for n in names):
        _refuse(_l("The password must not contain your username or your name."))
    # Imported here: its word lists take ~0.1 s to load, and only setting a password needs them
    # (every command and server process started without them).
    from zxcvbn import zxcvbn

    with _ZXCVBN_LOCK:
        score = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=names)["score"]
    if score < MIN_SCORE:
        _refuse(
            _l(
                "This password is too easy to guess (a common password, a word, a date or a "
                "keyboard pattern). Use a longer phrase of several unrelated words."
            )
        )
