"""Complete metadata of both planes (every model module imported)."""

from sqlalchemy import MetaData


def control_metadata() -> MetaData:
    import migrations.heads  # noqa: F401
    import saas.control.billing.models
    import saas.control.identity.models
    import saas.core.accounts.models
    import saas.core.audit.models
    import saas.core.registry.models  # noqa: F401
    from saas.core.db import ControlBase

    return ControlBase.metadata


def tenant_metadata() -> MetaData:
    from tenants.db import TenantBase, load_all_models

    load_all_models()
    return TenantBase.metadata
