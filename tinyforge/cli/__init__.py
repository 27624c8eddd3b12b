"""The command line: click commands only. Each command parses, calls one `tinyforge.api`
function, and prints. Errors: a `TinyforgeError` is one line + hint and its exit code; anything
else is a bug and shows its traceback.

Commands are loaded lazily (one module each under `tinyforge/cli/`) so `tinyforge --help` does not
import numpy, jinja2 or TensorFlow.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from tinyforge import __version__

# command name -> (module under tinyforge.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "boards": ("boards_cmd", "boards", "List board profiles, or show one."),
    "inspect": ("inspect_cmd", "inspect", "Describe a .tflite model or a built firmware.elf."),
    "convert": ("convert_cmd", "convert", "Keras / SavedModel / TFLite -> int8 TFLite for TFLM."),
    "build": ("build_cmd", "build", "Compile a model to C and build firmware for a board."),
    "export": (
        "export_cmd",
        "export",
        "A model as a library for your own firmware (CMake, Zephyr, PIO, Arduino).",
    ),
    "sign": ("sign_cmd", "sign", "Sign a build as an MCUboot image (imgtool) for A/B updates."),
    "test": ("test_cmd", "test", "Run a model on a board (host or emulator) and compare with TFLM."),
    "bench": ("bench_cmd", "bench", "Instructions, memory and per-layer figures for a model on a board."),
    "build-bootloader": (
        "bootloader_cmd",
        "build_bootloader",
        "Build the bench bootloader (--key: signed A/B slots).",
    ),
    "emulate": ("emulate_cmd", "emulate", "Start a board in QEMU with its UART on TCP or a pty."),
    "flash": ("flash_cmd", "flash", "Flash a build over a serial bootloader, esptool or UF2."),
    "monitor": ("monitor_cmd", "monitor", "Serial monitor with timestamps, CI expectations and stats."),
    "lab": ("lab_cmd", "lab", "An emulated board farm (labgrid places on QEMU benches): up, down, status."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (mod, _a, _h) in COMMANDS.items() if _available(mod)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(COMMANDS[cmd_name][0]):
            return None
        mod, attr, _help = COMMANDS[cmd_name]
        return getattr(importlib.import_module(f"tinyforge.cli.{mod}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(f"tinyforge.cli.{module}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinyforge")
def cli() -> None:
    """tinyforge: a trained model to a running microcontroller.

    convert -> build -> test (host, QEMU) -> flash -> monitor
    """


def main(argv: list[str] | None = None) -> None:
    """The `tinyforge` entry point. Every child process a command starts ends with it: SIGTERM and
    SIGHUP unwind the command (exit 128 + signal, e.g. 143 for SIGTERM), Ctrl-C as before, and the
    children are stopped on the way out (tinyforge/proc.py)."""
    from tinyforge import proc

    with proc.supervise():
        _run(argv)


def _run(argv: list[str] | None) -> None:
    from tinyforge.errors import TinyforgeError
    from tinyforge.proc import Terminated

    try:
        rc = cli.main(args=argv, prog_name="tinyforge", standalone_mode=False)
        if isinstance(rc, int) and rc != 0:  # ctx.exit(code) returns here without standalone mode
            sys.exit(rc)
    except TinyforgeError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Terminated as exc:
        try:
            click.echo(str(exc), err=True)
        except OSError:  # SIGHUP: the terminal may be gone
            pass
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except Exception:
        traceback.print_exc()
        click.echo(
            "\ntinyforge hit an internal error (a bug, not your input). Please report it with the "
            "traceback above and the command you ran.",
            err=True,
        )
        sys.exit(70)
