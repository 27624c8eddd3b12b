"""`tinyforge sign`: a build directory's firmware -> firmware.signed.bin (MCUboot format, imgtool)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tinyforge.cli.common import echo_json

if TYPE_CHECKING:
    from tinyforge.secureboot.sign import SignResult


def echo_signed(r: SignResult) -> None:
    click.echo(
        f"{r.path}: version {r.version}, {r.size} bytes of a {r.slot_size // 1024} KiB slot, "
        f"signed by key {r.key_id}, image sha256 {r.sha256[:16]}"
        + (f", model sha256 {r.model_sha256[:16]}" if r.model_sha256 else "")
    )


@click.command("sign")
@click.argument("directory", type=click.Path(path_type=str))
@click.option(
    "--key", "-k", required=True, type=click.Path(dir_okay=False), help="Ed25519 private key (PEM)."
)
@click.option("--version", "version", default="0.0.0", show_default=True, help="Image version X.Y.Z[+BUILD].")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Where to write [DIR/firmware.signed.bin]."
)
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
def sign(directory: str, key: str, version: str, output: str | None, force: bool, as_json: bool) -> None:
    """Sign DIRECTORY (a `tinyforge build --mcuboot` output) with imgtool: firmware.signed.bin.

    \b
    Example:
      imgtool keygen -k ~/keys/fleet.pem -t ed25519
      tinyforge build kws.tflite --mcuboot -o out/kws
      tinyforge sign out/kws --key ~/keys/fleet.pem --version 1.2.0
    """
    from tinyforge import api

    result = api.sign(directory, key, version, output=output, force=force)
    if as_json:
        echo_json(result.to_dict())
    else:
        echo_signed(result)
