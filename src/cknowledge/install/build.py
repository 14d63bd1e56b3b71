"""Running a package's build commands, one ``bash -c`` each, through ``proc.run``.

Each command runs in the sources folder with the install environment; the first that
fails stops the build with a :class:`~cknowledge.errors.CommandFailed` naming the step,
the command, its exit status and its last output lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import proc
from ..errors import InvalidInput


def commands_of(value: Any, key: str) -> list[str]:
    """Validate a list of shell commands (a single string is one command)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(c, str) and c.strip() for c in items):
        raise InvalidInput(f"`{key}` must be a list of shell command strings, not {value!r}")
    return list(items)


def run_commands(commands: list[str], cwd: str, env: Mapping[str, str],
                 on_line: Callable[[str], None] | None = None) -> None:
    """Run each command with ``bash -c`` in ``cwd``; stop at the first failure."""
    for i, command in enumerate(commands, 1):
        proc.run(command, cwd=cwd, env=env, on_line=on_line,
                 what=f"build step {i}/{len(commands)}")
