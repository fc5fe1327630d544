"""``modelatlas capture``: record a training command not written for capture, and send the
runs spooled while the registry was unreachable.

``modelatlas capture --namespace fraud --model churn -- python train.py --epochs 3`` runs a
Python script in this process (with :mod:`runpy`, inside a capture block, so the seeds it
sets and its ``sys.argv`` are recorded) when its interpreter is the one running
ModelAtlas; any other command runs as a subprocess, and its command line and exit status
are recorded. The exit status is the command's own. ``modelatlas capture flush`` sends
the spool.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from modelatlas.capture import Run, capture, spool_for
from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    fail,
    handles_errors,
    open_client,
    print_json,
    settings_for,
)

_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")
_COMMAND_KEY = "modelatlas.capture.command"


class _CaptureGroup(TyperGroup):
    """A group whose own callback takes a command after ``--``: click would otherwise read
    its first word as a subcommand name (``capture -- python`` -> no command 'python')."""

    # ``ctx`` is typer's vendored click Context, which typer does not export by name.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[_COMMAND_KEY] = args[cut + 1:]
            args = args[:cut]
        return super().parse_args(ctx, args)


capture_app = typer.Typer(
    name="capture", cls=_CaptureGroup, invoke_without_command=True,
    help="Record a training command (capture [options] -- cmd ...); flush the spool.",
)
app.add_typer(capture_app)


def _same_python(word: str) -> bool:
    """Whether ``word`` names the interpreter (and so the environment) running us."""
    if not _PYTHON.match(Path(word).name):
        return False
    found = shutil.which(word)
    if found is None:
        return False
    return Path(os.path.abspath(found)).parent == Path(os.path.abspath(sys.executable)).parent


def _run_python(argv: list[str]) -> int:
    """Run ``script args`` or ``-m module args`` here, as ``python`` would."""
    if argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        script = Path(argv[0])
        sys.argv = [argv[0], *argv[1:]]
        sys.path.insert(0, str(script.resolve().parent))
        runpy.run_path(str(script), run_name="__main__")
    return 0


def _in_process(command: list[str]) -> bool:
    rest = command[1:]
    return (_same_python(command[0]) and bool(rest)
            and ((rest[0] == "-m" and len(rest) > 1) or not rest[0].startswith("-")))


def _execute(run: Run, command: list[str]) -> int:
    if _in_process(command):
        try:
            return _run_python(command[1:])
        except SystemExit as exc:
            if exc.code in (0, None):
                return 0
            raise
    try:
        status = subprocess.call(command)
    except OSError as exc:
        run.fail(f"cannot run {command[0]}: {exc}")
        sys.stderr.write(f"error: cannot run {command[0]}: {exc}\n")
        return 127
    if status != 0:
        run.fail(f"exit status {status}")
    return status


@capture_app.callback()
def capture_command(
    ctx: typer.Context,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", show_default=False,
                                                  help="Namespace of the model.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", show_default=False,
                                              help="Model name (its next version).")] = None,
    env: Annotated[list[str] | None, typer.Option(
        "--env", help="Also record this environment variable (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag the version.")] = None,
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Run COMMAND (after --) inside a capture block and register what it trained."""
    if ctx.invoked_subcommand is not None:
        return
    command: list[str] = ctx.meta.get(_COMMAND_KEY) or []
    if not command:
        raise fail("give the command after --: modelatlas capture -n NS -m MODEL -- python "
                   "train.py")
    if not namespace or not model:
        raise fail("--namespace and --model name the model the run registers a version of")
    status = 0
    with capture(namespace, model, env=env or (), tags=tag or (), description=description,
                 command=command) as run:
        status = _execute(run, command)
    raise typer.Exit(status)


def _flush_lines(report: dict[str, Any]) -> list[str]:
    lines = [f"sent {item['ref']}" for item in report["sent"]]
    lines += [f"rejected {item['file']}: {item['error']}" for item in report["rejected"]]
    if report["pending"]:
        lines.append(f"{len(report['pending'])} still waiting: {report['error']}")
    return lines or ["nothing to send"]


@capture_app.command("flush")
@handles_errors
def flush_command(home: HomeOption = None, url: UrlOption = None,
                  json_: JsonOption = False) -> None:
    """Send the runs spooled while the registry was unreachable, oldest first."""
    spool = spool_for(settings_for(home))
    with open_client(home, url) as client:
        report = spool.flush(client).as_dict()
    if json_:
        print_json(report)
    else:
        sys.stdout.write("\n".join(_flush_lines(report)) + "\n")
    if report["pending"]:
        raise typer.Exit(1)
