# Two entry points: `make run` and `make test`. Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean native

NATIVE := $(VENV)/.native
# the sources of the compiled decision path, as `inavd.native.MODULES` lists them
NATIVE_SRC := $(shell $(PYTHON) -c 'import ast; t = ast.parse(open("src/inavd/native.py").read()); \
  print(*("src/" + m.replace(".", "/") + ".py" for n in t.body if isinstance(n, ast.AnnAssign) \
  and n.target.id == "MODULES" for m in ast.literal_eval(n.value)))')

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=77' wheel
	INAVD_PURE_PYTHON=1 $(BIN)/pip install --quiet -e '.[test,research]'
	$(BIN)/python -m compileall -q src  # bytecode even where PYTHONDONTWRITEBYTECODE is set
	touch $(STAMP)

# The decision path compiled with mypyc (`inavd.native`), against the dependencies just installed,
# and again whenever one of its sources changes. Without a C compiler it runs as Python.
$(NATIVE): $(STAMP) setup.py src/inavd/native.py $(NATIVE_SRC)
	$(BIN)/pip install --quiet --no-build-isolation --no-deps -e .
	$(BIN)/inavd version
	touch $(NATIVE)

# what start-up would rebuild in every process, kept beside the bytecode as compileall writes
# bytecode (`inavd.startup_cache`: the chained gates, the empty journal)
WARM := $(VENV)/.startup-cache
WARM_SRC := $(addprefix src/inavd/,startup_cache.py warm_caches.py risk/gates.py execution/journal.py)
$(WARM): $(STAMP) $(WARM_SRC)
	$(BIN)/python -m inavd.warm_caches
	touch $(WARM)

native: $(NATIVE) $(WARM)

run: $(NATIVE) $(WARM)
	$(BIN)/inavd run

test: $(NATIVE) $(WARM)
	$(BIN)/ruff check src tests bench setup.py
	$(BIN)/mypy
	$(BIN)/pytest
	# the unit and property tests again on the source, as an install without a compiler runs it
	INAVD_PURE_PYTHON=1 $(BIN)/pytest -q tests/unit tests/property

bench: $(NATIVE) $(WARM)
	for b in core decision order_path live_path side_channels research safety sessions startup; do $(BIN)/python -m bench.bench_$$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
