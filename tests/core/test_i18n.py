import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from core.i18n import normalise_locale

ROOT = Path(__file__).resolve().parents[2]


def test_browser_tags_map_to_our_catalogs():
    assert normalise_locale("zh-CN") == "zh_Hans_CN"
    assert normalise_locale("zh") == "zh_Hans_CN"
    assert normalise_locale("zh-Hans-CN") == "zh_Hans_CN"
    assert normalise_locale("en-US") == "en"
    assert normalise_locale("fr") is None


def test_accept_language_english(client):
    resp = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Communities" in resp.get_data(as_text=True)


def test_accept_language_chinese(client):
    resp = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "社区公账" in resp.get_data(as_text=True)


def test_cookie_choice_wins_over_accept_language(client):
    resp = client.get("/lang/en?next=/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Communities" in page and "社区公账" not in page


def test_unknown_locale_is_a_clear_4xx(client):
    resp = client.get("/lang/xx")
    assert resp.status_code == 422
    assert "不支持的语言" in resp.get_data(as_text=True)


def test_language_switch_does_not_redirect_off_site(client):
    resp = client.get("/lang/en?next=https://evil.example/")
    assert resp.headers["Location"] == "/"


def test_money_and_numbers_formatted_by_babel(app):
    from core.i18n import money

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert money(123456) == "¥1,234.56"
        assert money(-5) == "-¥0.05"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert money(123456).endswith("1,234.56")
        assert money(100, "JPY").endswith("100")


def test_every_user_visible_string_has_a_zh_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            "--ignore-dirs",
            ".venv tests bench migrations node_modules scripts",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    have = {m.id: m for m in catalog if m.id}
    missing = sorted(str(i) for i in wanted if i not in have or not have[i].string or have[i].fuzzy)
    assert not missing, "run ./scripts/i18n.sh update and translate: " + "; ".join(missing)
