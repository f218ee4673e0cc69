"""The declarative base of tenant tables.

Tenant tables have no schema in their declaration: `saas.core.tenancy.binding` maps them to
`t_<slug>` per unit of work. Keys are bigint and foreign keys stay inside the tenant schema
(or point at control tables that can become Citus reference tables).
"""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from saas.core.db import NAMING_CONVENTION


class TenantBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def load_all_models() -> None:
    """Import every tenant model module so `TenantBase.metadata` is complete."""
    import tenants.committees.models
    import tenants.cycles.models
    import tenants.execution.models
    import tenants.people.models
    import tenants.portal.models
    import tenants.proposals.models
    import tenants.results.models
    import tenants.voting.models  # noqa: F401
