"""The `chamyeo` command.

Each sub-command lives in its own module of this package and is imported lazily,
so `chamyeo count` never pays for Flask or the database driver.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

# command name -> "module:attribute"; the module is imported only when the command runs.
COMMANDS: dict[str, str] = {
    "up": "saas.cli.up:up",
    "worker": "saas.cli.worker:worker",
    "db": "saas.cli.db:db",
    "tokens": "saas.cli.tokens:tokens",
    "tenants": "saas.cli.tenants:tenants",
    "templates": "saas.cli.templates:templates",
    "audit": "saas.cli.audit:audit",
    "count": "saas.cli.count:count",
    "identity": "saas.cli.identity:identity",
    "billing": "saas.cli.billing:billing",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # the command is not built yet
                return None
            raise
        return getattr(module, attribute)

    @staticmethod
    def _available(name: str) -> bool:
        module_name = COMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chamyeo")
def main() -> None:
    """Chamyeo: participatory-budgeting portals for every municipality."""
