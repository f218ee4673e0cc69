"""Shared PB templates: versioned data files (``<name>@<version>.yaml``) validated on load.

See README.md in this folder for the layout and how to publish a new version.
"""

from provisioning.templates.catalog import (
    ABSENT,
    Catalog,
    Change,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSummary,
    diff_template,
    get_template,
    list_templates,
    load_template_file,
)

__all__ = [
    "ABSENT",
    "Catalog",
    "Change",
    "Template",
    "TemplateError",
    "TemplateNotFound",
    "TemplateSummary",
    "diff_template",
    "get_template",
    "list_templates",
    "load_template_file",
]
