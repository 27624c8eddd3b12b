"""`tinyforge build-bootloader`: the emulated bench's serial bootloader, plain or with a public key
compiled in (then it checks signed images in two A/B slots before starting one)."""

from __future__ import annotations

import click

from tinyforge.boards import DEFAULT_BOARD
from tinyforge.cli.common import echo_json


@click.command("build-bootloader")
@click.argument("board", default=DEFAULT_BOARD)
@click.option(
    "--key",
    type=click.Path(dir_okay=False),
    help="Ed25519 public key PEM (a private key works too; only its public half is compiled in).",
)
@click.option(
    "-o", "--output", type=click.Path(file_okay=False), help="Build directory [default: the cache]."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
def build_bootloader(board: str, key: str | None, output: str | None, as_json: bool) -> None:
    """Build the bench bootloader for BOARD; with --key, the secure one (A/B slots, signatures).

    \b
    Example:
      imgtool getpub -k ~/keys/fleet.pem -e pem > fleet.pub.pem
      tinyforge build-bootloader mps2-an386 --key fleet.pub.pem
      tinyforge emulate mps2-an386 --key fleet.pub.pem --serial tcp:4000
    """
    from tinyforge import api
    from tinyforge.toolchain.firmware import section_sizes

    elf = api.build_bootloader(board, key=key, output=output)
    sizes = section_sizes(elf)
    info = {"elf": str(elf), "board": board, "flash_bytes": sizes.flash_bytes, "ram_bytes": sizes.ram_bytes}
    if key is not None:
        from tinyforge.secureboot.keys import load_public_key

        info["key_id"] = load_public_key(key).key_id
    if as_json:
        echo_json(info)
        return
    what = f"secure (key {info['key_id']})" if key is not None else "plain AN3155"
    click.echo(
        f"{elf}: {what} bootloader for {board}, {sizes.flash_bytes:,} bytes of flash, {sizes.ram_bytes:,} of RAM"
    )
