"""Complete metadata of both planes (every model module imported)."""

from sqlalchemy import MetaData


def control_metadata() -> MetaData:
    import saas.accounts.models  # noqa: F401
    import saas.billing.models  # noqa: F401
    import saas.core.audit.models  # noqa: F401
    import saas.identity.models  # noqa: F401
    import saas.registry.models  # noqa: F401
    import saas.schema.tables  # noqa: F401
    from saas.core.db import ControlBase

    return ControlBase.metadata


def tenant_metadata() -> MetaData:
    from tenants.db import TenantBase, load_all_models

    load_all_models()
    return TenantBase.metadata
