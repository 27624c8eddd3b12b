"""A user's own application around a `tinyforge export` library, for the library tests: a
`main.c` that only knows model.h, its own CMakeLists.txt that pulls the library in with
add_subdirectory, and a console (the tinyforge BSP's UART on a board, stdio on the host). The
startup code, linker script and UART driver are the user's (here: copies of the board's BSP);
nothing of it lives in the export folder.

write_app(app_dir, library_dir, records, board)   board None: a host program
build_app(app_dir, build_dir, toolchain_file)     cmake configure + build -> the executable
parse_run(text, n)                                 the printed outputs, both API paths
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tinyforge import proc
from tinyforge.boards import BoardProfile

MAIN_C = r"""/* A user's application: runs every sample through the model with both model.h paths. */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "model.h"
#include "samples.h"

static int8_t outputs[SAMPLE_OUTPUT_BYTES];

int main(void)
{
    unsigned n;
    int i;
    console_init();
    model_init();
    for (n = 0; n < SAMPLE_COUNT; ++n) {
        const int8_t *in[MODEL_NUM_INPUTS];
        int8_t *out[MODEL_NUM_OUTPUTS];
        const int8_t *p = samples[n];
        int8_t *q = outputs;
        for (i = 0; i < MODEL_NUM_INPUTS; ++i) {
            in[i] = p;
            p += model_input_bytes[i];
        }
        for (i = 0; i < MODEL_NUM_OUTPUTS; ++i) {
            out[i] = q;
            q += model_output_bytes[i];
        }
        model_invoke(in, out); /* copying API */
        console_puts("out ");
        console_uint(n);
        console_puts(" ");
        console_hex(outputs, SAMPLE_OUTPUT_BYTES);
        console_puts("\n");
        for (i = 0; i < MODEL_NUM_INPUTS; ++i) { /* zero-copy API */
            memcpy(model_input(i), in[i], model_input_bytes[i]);
        }
        model_run();
        console_puts("zc ");
        console_uint(n);
        console_puts(" ");
        for (i = 0; i < MODEL_NUM_OUTPUTS; ++i) {
            console_hex(model_output(i), model_output_bytes[i]);
        }
        console_puts("\n");
    }
    console_puts("end\n");
    console_exit(0);
    return 0;
}
"""

CONSOLE_H = r"""#ifndef CONSOLE_H
#define CONSOLE_H
void console_init(void);
void console_puts(const char *s);
void console_uint(unsigned v);
void console_hex(const void *p, unsigned n);
void console_exit(int status);
#endif
"""

CONSOLE_BOARD_C = r"""/* The console on the board: the UART through the board support code. */
#include "bsp.h"
#include "console.h"

void console_init(void) { bsp_init(); }
void console_puts(const char *s) { bsp_puts(s); }
void console_uint(unsigned v) { bsp_put_uint(v); }
void console_hex(const void *p, unsigned n) { bsp_put_hex_bytes(p, n); }
void console_exit(int status) { bsp_exit(status); }
"""

CONSOLE_HOST_C = r"""/* The console on the host: stdio. */
#include <stdio.h>
#include <stdlib.h>

#include "console.h"

void console_init(void) {}
void console_puts(const char *s) { fputs(s, stdout); }
void console_uint(unsigned v) { printf("%u", v); }
void console_hex(const void *p, unsigned n)
{
    const unsigned char *b = p;
    unsigned i;
    for (i = 0; i < n; ++i) {
        printf("%02x", b[i]);
    }
}
void console_exit(int status) { fflush(stdout); exit(status); }
"""

APP_CMAKE = """cmake_minimum_required(VERSION 3.13)
project(user_app C ASM)
set(CMAKE_C_STANDARD 99)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)

add_subdirectory({library} tinyforge_model)

add_executable(app main.c {console} {extra_sources})
target_include_directories(app PRIVATE ${{CMAKE_CURRENT_SOURCE_DIR}} {extra_includes})
target_compile_options(app PRIVATE -Wall -Wextra -Werror)
target_link_libraries(app PRIVATE tinyforge_model)
{link}
"""

BOARD_LINK = """target_link_options(app PRIVATE -nostartfiles -Wl,--gc-sections -Wl,-z,noexecstack
    -Wl,--no-warn-rwx-segments
    -T${CMAKE_CURRENT_SOURCE_DIR}/board/linker.ld -Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/app.map)
set_target_properties(app PROPERTIES SUFFIX .elf)
"""


def _samples_h(records: list[bytes], output_bytes: int) -> str:
    rows = []
    for rec in records:
        body = ", ".join(str(b - 256 if b > 127 else b) for b in rec)
        rows.append(f"    {{ {body} }},")
    return (
        "#include <stdint.h>\n"
        f"#define SAMPLE_COUNT {len(records)}u\n"
        f"#define SAMPLE_OUTPUT_BYTES {output_bytes}u\n"
        f"static const int8_t samples[SAMPLE_COUNT][{len(records[0])}] = {{\n" + "\n".join(rows) + "\n};\n"
    )


def write_app(
    app_dir: Path, library_dir: Path, records: list[bytes], output_bytes: int, board: BoardProfile | None
) -> Path:
    """The user's project in `app_dir` (outside `library_dir`). `board` None: a host program."""
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "main.c").write_text(MAIN_C)
    (app_dir / "console.h").write_text(CONSOLE_H)
    (app_dir / "samples.h").write_text(_samples_h(records, output_bytes))
    if board is None:
        (app_dir / "console.c").write_text(CONSOLE_HOST_C)
        cmake = APP_CMAKE.format(
            library=library_dir.as_posix(), console="console.c", extra_sources="", extra_includes="", link=""
        )
    else:
        from tinyforge.toolchain.bsp import bsp_headers, bsp_sources, write_bsp_files

        (app_dir / "console.c").write_text(CONSOLE_BOARD_C)
        bsp = app_dir / "board"
        bsp.mkdir(exist_ok=True)
        names = []
        for src in (*bsp_sources(board), *bsp_headers()):
            shutil.copy(src, bsp / src.name)
            if src.suffix == ".c":
                names.append(f"board/{src.name}")
        write_bsp_files(board, bsp)  # bsp_config.h, linker.ld
        cmake = APP_CMAKE.format(
            library=library_dir.as_posix(),
            console="console.c",
            extra_sources=" ".join(names),
            extra_includes="${CMAKE_CURRENT_SOURCE_DIR}/board",
            link=BOARD_LINK,
        )
    (app_dir / "CMakeLists.txt").write_text(cmake)
    return app_dir


def build_app(
    app_dir: Path, build_dir: Path, *, toolchain_file: Path | None = None, c_flags: str = ""
) -> Path:
    """Configure and build the user's project with cmake (no compiler warning allowed); the
    executable's path. `c_flags` (host builds: sanitizers) also go to the linker."""
    argv = ["cmake", "-S", str(app_dir), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release"]
    if toolchain_file is not None:
        argv.append(f"-DCMAKE_TOOLCHAIN_FILE={toolchain_file}")
    if c_flags:
        argv += [f"-DCMAKE_C_FLAGS={c_flags}", f"-DCMAKE_EXE_LINKER_FLAGS={c_flags}"]
    proc.run_tool(argv, timeout=300, what="cmake configure")
    res = proc.run_tool(["cmake", "--build", str(build_dir), "-j", "2"], timeout=600, what="cmake build")
    log = res.stdout + res.stderr
    assert "warning:" not in log, log  # the library and the app compile warning-free
    exe = build_dir / ("app.elf" if toolchain_file is not None else "app")
    assert exe.is_file(), f"{exe} was not built"
    return exe


def parse_run(text: str, count: int) -> tuple[list[bytes], list[bytes]]:
    """(copying-API outputs, zero-copy outputs) per sample, from the program's output."""
    out: dict[int, bytes] = {}
    zc: dict[int, bytes] = {}
    ended = False
    for line in text.splitlines():
        parts = line.strip().split()
        if len(parts) == 3 and parts[0] in ("out", "zc"):
            (out if parts[0] == "out" else zc)[int(parts[1])] = bytes.fromhex(parts[2])
        elif parts == ["end"]:
            ended = True
    assert ended, f"the application did not finish:\n{text[-2000:]}"
    assert sorted(out) == sorted(zc) == list(range(count)), text[-2000:]
    return [out[i] for i in range(count)], [zc[i] for i in range(count)]
