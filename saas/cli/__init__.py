"""The `chamyeo` command.

Each sub-command lives in its own module of this package and is imported lazily,
so `chamyeo count` never pays for Flask or the database driver.

This is the one place where an error becomes the command's answer: a refusal
(`saas.core.refusals`) is its message and exit status `REFUSAL_EXIT_STATUS`; anything else is
one line naming where its traceback went, and exit status 1. Click's own usage errors exit 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import traceback

import click

# A refusal (the request cannot be done as asked: unknown, invalid, in conflict...) exits 1,
# as every failure did before refusals had a kind; scripts test for non-zero.
REFUSAL_EXIT_STATUS = 1

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

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; an error ends it with one line on stderr and a non-zero exit
        status, never a traceback: a refusal says why, an expected error (settings, a server
        that does not answer) what to fix, an unexpected one where its traceback was written."""
        from saas.core.refusals import Refusal

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Refusal as refusal:
            raise RefusedCommand(refusal) from None
        except Exception as error:  # noqa: BLE001 - the one place every command's error ends
            raise click.ClickException(_one_line(error)) from None

    @staticmethod
    def _available(name: str) -> bool:
        module_name = COMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module_name) is not None


class RefusedCommand(click.ClickException):
    """A command whose action was refused: the refusal's message, its exit status."""

    exit_code = REFUSAL_EXIT_STATUS

    def __init__(self, refusal: Exception) -> None:
        super().__init__(str(refusal) or type(refusal).__name__)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chamyeo")
def main() -> None:
    """Chamyeo: participatory-budgeting portals for every municipality."""


def _one_line(error: Exception) -> str:
    from saas.core.settings import SettingsError

    if isinstance(error, SettingsError):
        return f"settings: {error}"
    expected = _unreachable_server(error)
    if expected is not None:
        return expected
    log = _write_traceback(error)
    where = f"; the traceback is in {log}" if log else ""
    return f"unexpected error: {type(error).__name__}: {_first_line(error)}{where}"


def _unreachable_server(error: Exception) -> str | None:
    """One line for a database or Redis that cannot be reached or went away."""
    import psycopg
    import redis
    from sqlalchemy.exc import DBAPIError

    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    if isinstance(cause, psycopg.OperationalError):
        return f"the database does not answer: {_first_line(cause)}"
    if isinstance(cause, (redis.ConnectionError, redis.TimeoutError)):
        return f"Redis does not answer: {_first_line(cause)}"
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _write_traceback(error: Exception) -> str | None:
    from saas.core import clock
    from saas.core.settings import home_from_env

    path = home_from_env() / "logs" / "cli-errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {clock.now().isoformat()}\n")
            log.write("".join(traceback.format_exception(error)))
    except OSError:
        return None
    return str(path.resolve())
