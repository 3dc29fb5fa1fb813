"""factory_boy factories, registered as fixtures in conftest through pytest-factoryboy."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from core.auth import hash_password
from core.db import db
from core.models import KIND_STANDARD, Community, Organisation, OrganisationKind, Resident, User

PASSWORD = "correct horse battery"


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class CommunityFactory(_Base):
    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"测试社区{n}")
    slug = factory.Sequence(lambda n: f"community-{n}")
    district = "成都市武侯区"


class OrganisationFactory(_Base):
    class Meta:
        model = Organisation

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"测试社区企业{n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = OrganisationKind.ENTERPRISE.value
    standard = factory.LazyAttribute(lambda o: KIND_STANDARD[OrganisationKind(o.kind)].value)


class ResidentFactory(_Base):
    class Meta:
        model = Resident

    community = factory.SubFactory(CommunityFactory)
    name = factory.Iterator(["王秀兰", "李春生", "赵明华", "钱永福"])
    phone = factory.Sequence(lambda n: f"1390000{n:04d}")
    id_number = factory.Sequence(lambda n: f"51010719800101{n:04d}")
    unit = factory.Sequence(lambda n: f"{n % 9 + 1}栋1单元{100 + n}")


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda u: f"用户 {u.username}")
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))
    is_platform_admin = False
