"""`tinyforge emulate`: run a board in QEMU with its console UART on a TCP port or a pty."""

from __future__ import annotations

import click

from tinyforge.boards import DEFAULT_BOARD


@click.command("emulate")
@click.argument("board", default=DEFAULT_BOARD)
@click.option(
    "--firmware", type=click.Path(dir_okay=False), help="Firmware ELF to run (with --bootloader: preloaded)."
)
@click.option(
    "--bootloader",
    is_flag=True,
    help="Run tinyforge's serial bootloader (AN3155) so you can flash the board.",
)
@click.option("--serial", default="tcp:4000", show_default=True, help="tcp:PORT, tcp:HOST:PORT, or pty.")
@click.option(
    "--hold/--no-hold",
    default=True,
    show_default=True,
    help="TCP: the CPU runs only while a client is attached (from its first instruction: nothing printed "
    "is missed); --no-hold runs it at once (what it prints meanwhile is kept for the first client).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False),
    help="The secure bench: the bootloader built with this Ed25519 public key (signed images, A/B slots).",
)
@click.option(
    "--flash-file",
    type=click.Path(dir_okay=False),
    help="With --key: the file that holds the bench's flash [default: in the cache]; it survives restarts.",
)
@click.option(
    "--boot",
    is_flag=True,
    help="With --key: power on into the newest valid image (BOOT0 low) instead of waiting for a flasher.",
)
def emulate(
    board: str,
    firmware: str | None,
    bootloader: bool,
    serial: str,
    hold: bool,
    key: str | None,
    flash_file: str | None,
    boot: bool,
) -> None:
    """Start BOARD in QEMU and keep it running until Ctrl-C (or until the firmware exits).

    \b
    Example: tinyforge emulate mps2-an386 --bootloader --serial tcp:4000
             then: tinyforge flash out/kws --port socket://127.0.0.1:4000 --follow
    Signed images: tinyforge emulate mps2-an386 --key fleet.pub.pem --flash-file bench.flash
    """
    from tinyforge import api

    emu = api.emulate(
        board,
        firmware=firmware,
        bootloader=bootloader,
        serial=serial,
        hold=hold,
        key=key,
        flash_file=flash_file,
        boot=boot,
    )
    if key is not None:
        where = flash_file or api.default_flash_file(board)
        mode = "booting the newest valid image" if boot else "waiting for a flasher"
        what = f"the secure bootloader ({mode}; flash in {where})"
    else:
        what = "the tinyforge serial bootloader" if bootloader else str(firmware)
    click.echo(
        f"{board}: running {what} in QEMU (pid {emu.process.pid}); console UART on {emu.port}", err=True
    )
    if emu.hold:
        click.echo("  the CPU runs while a client is attached (--no-hold: at once)", err=True)
    if emu.serial.kind == "tcp":
        click.echo(f"  flash:   tinyforge flash BUILD_DIR --board {board} --port {emu.port}", err=True)
        click.echo(f"  monitor: tinyforge monitor --port {emu.port} --wait", err=True)
    else:
        click.echo(f"  flash:   tinyforge flash BUILD_DIR --board {board} --port {emu.port}", err=True)
        click.echo(
            f"           stm32flash -m 8n1 -w firmware.bin -v -S 0x08010000 -g 0x08010000 {emu.port}",
            err=True,
        )
    click.echo("Ctrl-C stops it.", err=True)
    try:
        code = emu.wait()
        click.echo(f"the board stopped: QEMU exited with status {code}", err=True)
        if emu.relay is not None and (emu.serial.kind == "pty" or emu.relay.pending()):
            # keep the port, and what the board sent last, for whoever reads it
            until = (
                "Ctrl-C" if emu.serial.kind == "pty" else "a client has read what it sent last (or Ctrl-C)"
            )
            click.echo(f"{emu.port} stays open until {until}", err=True)
            emu.relay.wait_delivered()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        emu.stop()
