import pytest
from flask_babel import force_locale

from core.errors import InvalidInput
from core.passwords import check_new_password

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    "password",
    ["12345678", " " * 8, "password", "qwertyuiop", "iloveyou1", "2026-01-01", "aaaaaaaaaaaa"],
)
def test_common_or_trivial_passwords_are_refused(app, password):
    with pytest.raises(InvalidInput) as e:
        check_new_password(password, user_inputs=[])
    assert "password" in e.value.errors


def test_short_password_is_refused_with_the_minimum(app):
    with pytest.raises(InvalidInput, match="at least 8"):
        check_new_password("Xk9#pq", user_inputs=[])


def test_the_users_own_names_are_refused(app):
    for pw in ("wangminhua", "Wangminhua2026", "my-wangminhua!"):
        with pytest.raises(InvalidInput, match="username or your name"):
            check_new_password(pw, user_inputs=["wangminhua", "王敏华"])


def test_a_long_unguessable_phrase_is_accepted(app):
    check_new_password("violet tractor lantern 42 breeze", user_inputs=["alice"])
    check_new_password("K7#vq!Lm29zP", user_inputs=["alice"])
    # Longer than zxcvbn's limit: judged by its start, never an error.
    check_new_password("plum harbour quietly juggles " * 5, user_inputs=["alice"])


def test_refusal_is_translated(app):
    with force_locale("zh_Hans_CN"):
        with pytest.raises(InvalidInput) as e:
            check_new_password("12345678", user_inputs=[])
        assert "太容易被猜到" in str(e.value.message)


def test_cli_user_create_applies_the_rule(runner):
    r = runner.invoke(args=["user", "create", "carol", "--password", "12345678"])
    assert r.exit_code != 0
    r = runner.invoke(args=["user", "create", "carol", "--password", "carol-carol-carol"])
    assert r.exit_code != 0
    r = runner.invoke(args=["user", "create", "carol", "--password", "velvet otter compass 7"])
    assert r.exit_code == 0, r.output
