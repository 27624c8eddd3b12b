# tinyforge: the two commands of the README.
#   make demo   set up what is missing, then build the bundled example for the default board,
#               run it in QEMU and print predictions, bit-exactness and the memory report
#   make test   set up what is missing, then run the whole test suite
# Set-up is idempotent: a second run installs nothing.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
APT_PKGS := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm stm32flash cmake ser2net
# tool that proves each package is there, in the same order as APT_PKGS
APT_TOOLS := arm-none-eabi-gcc /usr/lib/arm-none-eabi/include/stdlib.h qemu-system-arm stm32flash cmake /usr/sbin/ser2net
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2  # pytest-xdist: two workers, as many as the CI machine has cores

.PHONY: demo test test-fast setup apt venv lint clean

demo: setup
	$(VENV)/bin/python -m tinyforge.demo

test: setup
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

# the unit tier alone, in seconds
test-fast: setup
	$(VENV)/bin/pytest -q -m "unit and not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check tinyforge tests benchmarks examples
	$(VENV)/bin/ruff format --check tinyforge tests benchmarks examples
	$(VENV)/bin/mypy    # settings and files in pyproject.toml [tool.mypy]

setup: apt venv

apt:
	@missing=""; pkgs=($(APT_PKGS)); tools=($(APT_TOOLS)); \
	for i in $${!pkgs[@]}; do t=$${tools[$$i]}; \
	  if [[ "$$t" == /* ]]; then [ -e "$$t" ] || missing="$$missing $${pkgs[$$i]}"; \
	  else command -v "$$t" >/dev/null 2>&1 || missing="$$missing $${pkgs[$$i]}"; fi; \
	done; \
	if ! $(PYTHON) -c "import venv, ensurepip" >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing system packages. Run:"; echo "  sudo apt-get install -y$$missing"; echo "then run make again."; exit 1; \
	  fi; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[convert,esp,sign,metrics,dev]"
	@touch $(STAMP)

clean:
	rm -rf build dist out .pytest_cache .ruff_cache
