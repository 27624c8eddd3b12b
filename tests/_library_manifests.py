"""Checks of a `tinyforge export` folder's build glue with the parsers each build system has (or
the rules it documents), and the source list each of them compiles:

    cmake_sources(build_dir, lib)     what CMake compiles (compile_commands.json of a configure)
    zephyr_module(lib)                module.yml by yaml + tests/data/schemas/zephyr-module.schema.json,
                                      Kconfig by kconfiglib, CMakeLists.txt evaluated by cmake -P
    platformio_sources(lib)           library.json by PlatformIO's manifest parser and schema, its
                                      srcFilter expanded by PlatformIO's own matcher
    arduino_sources(lib)              library.properties by the parser below (Arduino's library
                                      specification, 1.5 format) and PlatformIO's parser of it

Every *_sources returns paths relative to the library folder, sorted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tinyforge import proc

SCHEMAS = Path(__file__).resolve().parent / "data" / "schemas"

# ---- CMake ---------------------------------------------------------------------------------


def cmake_configure(lib: Path, build_dir: Path) -> Path:
    """Configure the library alone (natively) with compile_commands.json; the build folder."""
    proc.run_tool(
        ["cmake", "-S", str(lib), "-B", str(build_dir), "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"],
        timeout=300,
        what="cmake configure",
    )
    return build_dir


def cmake_sources(build_dir: Path, lib: Path) -> list[str]:
    entries = json.loads((build_dir / "compile_commands.json").read_text())
    return sorted(Path(e["file"]).resolve().relative_to(lib.resolve()).as_posix() for e in entries)


# ---- Zephyr --------------------------------------------------------------------------------

# Zephyr's library functions, recording what the module's CMakeLists.txt asks for (cmake -P has
# no targets); set_source_files_properties is not scriptable, so it is recorded too.
_ZEPHYR_SCRIPT = """
function(zephyr_library_named name)
  set_property(GLOBAL APPEND PROPERTY TF_LIBS ${{name}})
endfunction()
function(zephyr_library_sources)
  set_property(GLOBAL APPEND PROPERTY TF_SOURCES ${{ARGN}})
endfunction()
function(zephyr_include_directories)
  set_property(GLOBAL APPEND PROPERTY TF_INCLUDES ${{ARGN}})
endfunction()
function(set_source_files_properties)
  set_property(GLOBAL APPEND PROPERTY TF_SOURCE_PROPS "${{ARGN}}")
endfunction()
{config}
include("{module_cmake}")
get_property(libs GLOBAL PROPERTY TF_LIBS)
get_property(sources GLOBAL PROPERTY TF_SOURCES)
get_property(includes GLOBAL PROPERTY TF_INCLUDES)
get_property(props GLOBAL PROPERTY TF_SOURCE_PROPS)
file(WRITE "{out}" "libs=${{libs}}\\nsources=${{sources}}\\nincludes=${{includes}}\\nprops=${{props}}\\n")
"""


def zephyr_cmake(lib: Path, work: Path, *, enabled: bool) -> dict[str, list[str]]:
    """Evaluate zephyr/CMakeLists.txt with cmake -P (CONFIG_ symbol set or not)."""
    import yaml

    meta = yaml.safe_load((lib / "zephyr" / "module.yml").read_text())
    kconfig_symbol = _kconfig_symbols(lib / meta["build"]["kconfig"])[0]
    work.mkdir(parents=True, exist_ok=True)
    out = work / "zephyr-cmake.txt"
    script = work / "zephyr-eval.cmake"
    script.write_text(
        _ZEPHYR_SCRIPT.format(
            config=f"set(CONFIG_{kconfig_symbol} y)" if enabled else "",
            module_cmake=(lib / meta["build"]["cmake"] / "CMakeLists.txt").as_posix(),
            out=out.as_posix(),
        )
    )
    proc.run_tool(["cmake", "-P", str(script)], timeout=60, what="cmake -P")
    values: dict[str, list[str]] = {}
    for line in out.read_text().splitlines():
        key, _, val = line.partition("=")
        values[key] = [v for v in val.split(";") if v]
    return values


def _kconfig_symbols(path: Path) -> list[str]:
    import kconfiglib

    kconf = kconfiglib.Kconfig(str(path), warn_to_stderr=False)
    assert not kconf.warnings, kconf.warnings
    return [s.name for s in kconf.unique_defined_syms]


def zephyr_module(lib: Path) -> dict[str, Any]:
    """module.yml valid against the schema, its paths present, its Kconfig parsed by kconfiglib:
    the module's description with the Kconfig symbols."""
    import jsonschema
    import kconfiglib
    import yaml

    meta = yaml.safe_load((lib / "zephyr" / "module.yml").read_text())
    schema = json.loads((SCHEMAS / "zephyr-module.schema.json").read_text())
    jsonschema.validate(meta, schema)
    build = meta["build"]
    assert (lib / build["cmake"] / "CMakeLists.txt").is_file(), build
    kconfig = lib / build["kconfig"]
    kconf = kconfiglib.Kconfig(str(kconfig), warn_to_stderr=False)
    assert not kconf.warnings, kconf.warnings
    symbols = {}
    for sym in kconf.unique_defined_syms:
        node = sym.nodes[0]
        symbols[sym.name] = {
            "type": kconfiglib.TYPE_TO_STR[sym.orig_type],
            "prompt": node.prompt[0] if node.prompt else None,
            "help": node.help,
        }
    return {"meta": meta, "symbols": symbols}


def zephyr_sources(lib: Path, work: Path) -> list[str]:
    values = zephyr_cmake(lib, work, enabled=True)
    return sorted(Path(s).resolve().relative_to(lib.resolve()).as_posix() for s in values["sources"])


# ---- PlatformIO ----------------------------------------------------------------------------


def platformio_manifest(lib: Path) -> dict[str, Any]:
    """library.json through PlatformIO's parser and schema (ManifestValidationError if invalid);
    PlatformIO must pick it (over library.properties) for the folder."""
    from platformio.package.manifest.parser import ManifestFileType, ManifestParserFactory
    from platformio.package.manifest.schema import ManifestSchema

    assert ManifestFileType.from_dir(str(lib)) == ManifestFileType.LIBRARY_JSON
    parsed = ManifestParserFactory.new_from_dir(str(lib)).as_dict()
    ManifestSchema().load_manifest(parsed)
    return parsed


def _pio_build_extensions() -> list[str]:
    """PlatformIO's SRC_BUILD_EXT, read from its builder module without importing it (the module
    imports SCons, which only exists inside a `pio run`)."""
    import ast

    import platformio

    tree = ast.parse((Path(platformio.__file__).parent / "builder" / "tools" / "piobuild.py").read_text())
    lists = {
        t.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id in ("SRC_C_EXT", "SRC_CXX_EXT", "SRC_ASM_EXT")
    }
    return lists["SRC_C_EXT"] + lists["SRC_CXX_EXT"] + lists["SRC_ASM_EXT"]


def platformio_sources(lib: Path) -> list[str]:
    """The files PlatformIO's library builder compiles: build.srcFilter over build.srcDir, matched
    by PlatformIO's own function with its source extensions."""
    from platformio import fs

    build = platformio_manifest(lib)["build"]
    src_dir = lib / build["srcDir"]
    found = fs.match_src_files(str(src_dir), build["srcFilter"], _pio_build_extensions())
    return sorted((src_dir / f).relative_to(lib).as_posix() for f in found)


# ---- Arduino -------------------------------------------------------------------------------

# Arduino library specification (1.5 format), library.properties
ARDUINO_REQUIRED = (
    "name",
    "version",
    "author",
    "maintainer",
    "sentence",
    "paragraph",
    "category",
    "url",
    "architectures",
)
ARDUINO_OPTIONAL = ("depends", "dot_a_linkage", "includes", "precompiled", "ldflags", "license")
ARDUINO_CATEGORIES = (
    "Display",
    "Communication",
    "Signal Input/Output",
    "Sensors",
    "Device Control",
    "Timing",
    "Data Storage",
    "Data Processing",
    "Other",
)
_ARDUINO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
# Arduino compiles these in a 1.5-format library's src/, recursively
ARDUINO_SOURCE_SUFFIXES = (".c", ".cpp", ".S")


def parse_library_properties(text: str) -> dict[str, str]:
    """key=value lines (UTF-8), `#` comments and blank lines ignored; a line without `=` or a key
    given twice is an error."""
    props: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"library.properties line {n}: no '=' in {raw!r}")
        key = key.strip()
        if key in props:
            raise ValueError(f"library.properties line {n}: {key} given twice")
        props[key] = value.strip()
    return props


def arduino_problems(lib: Path) -> list[str]:
    """What breaks Arduino's library specification in `lib` (empty when none)."""
    props = parse_library_properties((lib / "library.properties").read_text(encoding="utf-8"))
    problems = [f"missing {k}" for k in ARDUINO_REQUIRED if not props.get(k)]
    problems += [f"unknown field {k}" for k in props if k not in ARDUINO_REQUIRED + ARDUINO_OPTIONAL]
    if not _ARDUINO_NAME.match(props.get("name", "")):
        problems.append(f"name {props.get('name')!r}: letters, digits, space _ . - (first a letter or digit)")
    if not _SEMVER.match(props.get("version", "")):
        problems.append(f"version {props.get('version')!r} is not semver")
    if props.get("category") not in ARDUINO_CATEGORIES:
        problems.append(f"category {props.get('category')!r} not one of {ARDUINO_CATEGORIES}")
    if not re.match(r"^https?://[^\s/]+", props.get("url", "")):
        problems.append(f"url {props.get('url')!r} is not an http(s) URL")
    archs = [a.strip() for a in props.get("architectures", "").split(",")]
    if not archs or any(not re.match(r"^(\*|[a-z0-9_]+)$", a) for a in archs):
        problems.append(f"architectures {props.get('architectures')!r}")
    for header in (h.strip() for h in props.get("includes", "").split(",") if h.strip()):
        if not (lib / "src" / header).is_file():
            problems.append(f"includes {header}: not in src/")
    if not (lib / "src").is_dir():
        problems.append("no src/ folder (1.5 format)")
    if (lib / "src" / "utility").exists():
        problems.append("src/utility is for the legacy flat layout only")
    return problems


def arduino_sources(lib: Path) -> list[str]:
    """What Arduino compiles of a 1.5-format library: every source under src/, recursively; the
    properties also go through PlatformIO's parser and schema for library.properties."""
    from platformio.package.manifest.parser import LibraryPropertiesManifestParser
    from platformio.package.manifest.schema import ManifestSchema

    problems = arduino_problems(lib)
    assert not problems, problems
    parsed = LibraryPropertiesManifestParser((lib / "library.properties").read_text()).as_dict()
    ManifestSchema().load_manifest(parsed)
    return sorted(
        p.relative_to(lib).as_posix()
        for p in (lib / "src").rglob("*")
        if p.is_file() and p.suffix in ARDUINO_SOURCE_SUFFIXES
    )
