"""The one personal-data detector for free text (core.privacy, issue 9 item 2)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from core.db import db
from core.errors import InvalidInput
from core.privacy import (
    PersonalTerms,
    check_free_text,
    find_personal_data,
    normalise,
)
from core.residents import create_resident

WANG = SimpleNamespace(
    name="王小明", phone="12012345678", id_number="11010119900307123X", unit="3栋2单元501"
)
ALICE = SimpleNamespace(name="Alice Zhang", phone=None, id_number=None, unit=None)


def test_normalise_removes_what_hides_a_match():
    assert normalise("王\u200b小\u200d明") == "王小明"
    assert normalise("王 小　明\t") == "王小明"
    assert normalise("王\u00ad小\u2060明\ufeff") == "王小明"
    assert normalise("ＡＬＩＣＥ　Zhang") == "alicezhang"
    assert normalise("１３９") == "139"
    assert normalise("\u0661\u0663\u0669") == "139"  # Arabic-Indic digits
    assert normalise("王·小-明。") == "王小明"


@pytest.mark.parametrize(
    "text",
    [
        "收王小明物业费",
        "收王\u200b小明物业费",  # zero-width space
        "收 王 小 明 物业费",  # spaces
        "收王　小　明物业费",  # ideographic spaces
        "收王\u2060小\u200c明\u00ad物业费",  # word joiner, ZWNJ, soft hyphen
        "收王\u0301小明物业费",  # a combining mark
        "收 ALICE  zhang 物业费",
        "收ａｌｉｃｅ　ｚｈａｎｇ物业费",  # full-width letters
    ],
)
def test_a_residents_name_is_found_however_it_is_split(text):
    assert find_personal_data(text, [WANG, ALICE]) == ["name"]


@pytest.mark.parametrize(
    "text",
    [
        "联系电话13812345678",
        "联系电话 138 1234 5678",
        "联系电话 138-1234-5678",
        "联系电话 138–1234—5678",
        "联系电话１３８１２３４５６７８",
        "联系电话 +86 138 1234 5678",
        "联系电话 138\u200b1234\u200b5678",
        "联系电话 138.1234.5678",
        "联系电话 (138) 1234 5678",
        "联系电话 010-62345678",
        "联系电话 138****5678",
        "联系电话 120 1234 5678",  # not a mobile shape, but this resident's number
    ],
)
def test_phone_numbers_are_found_in_any_typing(text):
    assert find_personal_data(text, [WANG]) == ["phone"]


@pytest.mark.parametrize(
    "text",
    [
        "身份证号 110101199003071234",
        "身份证号 1101 0119 9003 0712 34",
        "身份证号 110101-19900307-123x",
        "身份证号 １１０１０１１９９００３０７１２３Ｘ",
        "证件 11010119900307123X",  # this resident's
    ],
)
def test_id_numbers_are_found_in_any_typing(text):
    assert find_personal_data(text, [WANG]) == ["id_number"]


def test_addresses_and_masked_names():
    assert find_personal_data("3栋2单元501 物业费", []) == ["address"]
    assert find_personal_data("501室 物业费", []) == ["address"]
    assert find_personal_data("王** 缴费", []) == ["name"]


@pytest.mark.parametrize(
    "text",
    [
        "收到 3 月物业费",
        "支付 2026-03-01 至 2026-03-31 电费 1,234.56 元",
        "发票号 12345678",
        "全电发票 26112000000012345678",
        "银行账号 6222 0212 3456 7890 123",
        "3号楼电梯维修",
        "小明星超市采购",  # no resident named 小明星
        "王",  # one character is never a name match
        "",
    ],
)
def test_ordinary_summaries_pass(text):
    assert find_personal_data(text, [WANG, SimpleNamespace(name="李", unit=None)]) == []


def test_terms_can_be_prepared_once():
    terms = PersonalTerms.of([WANG, ALICE])
    assert find_personal_data("王 小 明", terms) == ["name"]
    assert find_personal_data("alice zhang 13812345678", terms) == ["name", "phone"]


def test_check_free_text_reads_the_communitys_residents(app, community, resident_factory):
    other = resident_factory(
        name="钱永福"
    )  # another community's resident is not looked for by name
    resident_factory(community=community, name="赵\u200b明华", phone="13900001111")
    db.session.flush()
    with force_locale("en"):
        problems = [str(m) for m in check_free_text(community.id, "收赵明华物业费")]
    assert len(problems) == 1 and "counterparty" in problems[0]
    with force_locale("zh_Hans_CN"):
        assert "往来" in str(check_free_text(community.id, "收赵 明 华物业费")[0])
    assert check_free_text(community.id, f"收{other.name}物业费") == []
    assert len(check_free_text(community.id, "139 0000 1111 赵明华")) == 2
    assert check_free_text(community.id, "收三月物业费") == []


def test_check_free_text_sees_a_resident_added_later_in_the_session(
    app, community, resident_factory
):
    assert check_free_text(community.id, "收孙悟空物业费") == []
    resident_factory(community=community, name="孙悟空")
    db.session.flush()
    assert len(check_free_text(community.id, "收孙悟空物业费")) == 1


def test_a_renamed_resident_is_screened_by_the_new_name_only(app, community, resident_factory):
    """The normalised names are kept per process for the residents as read; a rename makes
    another set of rows, so the next screening (a new transaction) uses the new name."""
    r = resident_factory(community=community, name="李四海")
    db.session.commit()
    assert len(check_free_text(community.id, "收李四海物业费")) == 1
    r.name = "李思海"
    db.session.commit()
    assert check_free_text(community.id, "收李四海物业费") == []
    assert len(check_free_text(community.id, "收李思海物业费")) == 1


def test_residents_numbers_are_decrypted_only_for_a_text_with_a_run_of_digits(
    app, community, resident_factory
):
    """Posting screens every summary; the residents' phone and ID numbers (encrypted at rest)
    are read only when a text has a run of digits they could be found in, and then found."""
    import sqlalchemy as sa

    resident_factory(community=community, name="钱多多", phone="12012345678")  # no phone shape
    db.session.flush()
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert check_free_text(community.id, "收三月物业费") == []
        assert len(check_free_text(community.id, "收钱 多多物业费")) == 1
        assert seen and not any("phone" in s for s in seen)
        assert check_free_text(community.id, "付款 第 1234567 号") == []  # a run, not theirs
        assert any("phone" in s for s in seen)
        with force_locale("en"):
            problems = [str(m) for m in check_free_text(community.id, "付款 120-1234-5678")]
        assert len(problems) == 1 and "phone number" in problems[0]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)


# --- residents' numbers are stored in their ASCII form ----------------------------------------


@pytest.fixture
def staff(community, organisation_factory, user_factory):
    from core.auth import grant_role

    user = user_factory()
    grant_role(user, organisation_factory(community=community), "admin")
    return user


def test_full_width_digits_become_ascii_in_a_residents_numbers(app, community, staff):
    r = create_resident(
        community,
        name="周 周",
        phone="１３９ ０００１-２２２２",
        id_number="１１０１０１１９９００３０７１２３ｘ",
        actor=staff,
    )
    assert (r.phone, r.id_number) == ("13900012222", "11010119900307123X")


@pytest.mark.parametrize(
    "field,value",
    [
        ("id_number", "١١٠١٠١١٩٩٠٠٣٠٧١٢٣٤"),  # Arabic-Indic digits: \d matched them
        ("id_number", "11010119900307123Y"),
        ("phone", "١٣٩٠٠٠١٢٢٢٢"),
    ],
)
def test_numbers_in_other_scripts_are_refused(app, community, staff, field, value):
    with pytest.raises(InvalidInput) as e:
        create_resident(community, name="周周", actor=staff, **{field: value})
    assert field in e.value.errors
