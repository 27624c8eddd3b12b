"""`tinyforge inspect`: describe a .tflite model or a firmware.elf built by tinyforge."""

from __future__ import annotations

from typing import Any

import click

from tinyforge.cli.common import echo_json, table


@click.command("inspect")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--board", default="host", show_default=True, help="Board whose kernels decide what is supported."
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False),
    help="Signed images: check the signature against this public (or private) key PEM.",
)
def inspect(path: str, as_json: bool, board: str, key: str | None) -> None:
    """Show inputs, outputs, layers, MACs, weights and memory of a model (or a firmware's manifest,
    or a signed image's version, hash, key id and signature).

    
    Examples: tinyforge inspect kws_ref_model.tflite
              tinyforge inspect out/kws/firmware.signed.bin --key pub.pem
    """
    from tinyforge import api

    if _is_signed_image(path):
        info = api.inspect_image(path, key=key)
        if as_json:
            echo_json(info)
        else:
            _print_signed(info)
        if key is not None and not info["verified"]:
            raise SystemExit(1)
        return
    if key is not None:
        raise click.UsageError("--key applies to signed images (firmware.signed.bin) only")
    if path.endswith(".elf"):
        manifest = api.inspect_firmware(path)
        if as_json:
            echo_json(manifest)
        else:
            for k, v in manifest.items():
                click.echo(f"{k}: {v}")
        return
    rep = api.inspect(path, board=board)
    if as_json:
        echo_json(rep)
        return
    click.echo(f"model: {rep['model']}  ({rep['size_bytes']} bytes, sha256 {rep['sha256'][:16]})")
    for kind in ("inputs", "outputs"):
        for t in rep[kind]:
            click.echo(f"{kind[:-1]:>6}: {t['name']}  {t['dtype']} {t['shape']}  {t['quant']}")
    rows = [
        [
            lay["index"],
            lay["op"],
            lay["name"][:40],
            lay["output_shape"],
            lay["params"][:48],
            lay["macs"],
            lay["weight_bytes"],
            ("folded" if lay.get("folded") else "") if lay["supported"] else "NO",
        ]
        for lay in rep["layers"]
    ]
    click.echo("")
    click.echo(
        table(rows, ["#", "op", "name", "out", "params", "MACs", "weights", "unsupported"], "rlllllrrl"[:8])
    )
    click.echo("")
    click.echo(f"MACs: {rep['macs']:,}")
    click.echo(f"weights: {rep['weight_bytes']:,} B")
    p = rep["largest_live_pair"]
    if p:
        click.echo(
            f"largest live activations: {p['bytes']:,} B at layer {p['op_index']} {p['kind']} {p['name']}"
        )
    st = rep["state"]
    if rep["stateful"]:
        click.echo(
            f"state: stateful, {len(st['tensors'])} tensor(s), {st['bytes']:,} B kept across invocations "
            "(model_reset_state() sets them back)"
        )
        for t in st["tensors"]:
            layers = ", ".join(str(i) for i in t["layers"])
            click.echo(
                f"  {t['name']}  {t['dtype']} {t['shape']}  {t['bytes']:,} B  {t['quant']}  (layer {layers})"
            )
    else:
        click.echo("state: none (stateless)")
    if rep["subgraphs"] > 1:
        click.echo(
            f"subgraphs: {rep['subgraphs']} (subgraph 0 is compiled; the others are never run from it "
            "and are left out)"
        )
    if rep.get("densified"):
        click.echo(
            f"sparse tensors compiled dense: {len(rep['densified'])} ({', '.join(rep['densified'])[:120]})"
        )
    mem = rep.get("memory")
    if mem:
        click.echo(
            f"memory plan: arena {mem['arena_bytes']:,} B + scratch {mem['scratch_bytes']:,} B = "
            f"{mem['ram_bytes']:,} B RAM (liveness bound {mem['liveness_bound']:,} B)"
        )
    if rep["unsupported"]:
        by_op: dict[str, list[str]] = {}
        for u in rep["unsupported"]:
            by_op.setdefault(f"{u['op']} ({u['reason']})", []).append(str(u["index"]))
        click.echo("unsupported ops: " + "; ".join(f"{k} at layers {', '.join(v)}" for k, v in by_op.items()))
    else:
        click.echo("unsupported ops: none")
    if rep.get("problem"):
        click.echo(f"cannot compile: {rep['problem']}")


def _is_signed_image(path: str) -> bool:
    from pathlib import Path

    from tinyforge.secureboot.mcuboot import is_mcuboot

    p = Path(path)
    if not p.is_file() or p.suffix in (".tflite", ".elf"):
        return False
    with open(p, "rb") as f:
        return is_mcuboot(f.read(4))


def _print_signed(info: dict[str, Any]) -> None:
    hash_state = (
        "matches the image" if info["hash_ok"] else "DOES NOT MATCH the image (modified after signing)"
    )
    click.echo(
        f"image: {info['image']}  (MCUboot, {info['size']} bytes, flags {' '.join(info['flags']) or '-'})"
    )
    click.echo(f"version: {info['version']}")
    click.echo(f"sha256: {info['sha256']}  ({hash_state})")
    click.echo(f"key id: {info['key_id'] or '- (unsigned)'}  signature: {info['signature'] or 'none'}")
    click.echo(f"board: {info['board'] or '-'}  model sha256: {info['model_sha256'] or '-'}")
    click.echo(
        f"load address: {info['load_address']}  header {info['header_size']} B  TLVs: {', '.join(info['tlvs'])}"
    )
    if "verified" in info:
        if info["verified"]:
            click.echo(f"signature: valid for key {info['verified_with']}")
        else:
            click.echo(f"signature: NOT valid for key {info['verified_with']}")
