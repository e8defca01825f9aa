# turngym: `make run` and `make test` each install what they need first (idempotent, offline
# except for the package registries), so a fresh machine needs exactly these two commands.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS ?= table,swe,tools,hf,ray,dev
# The stamp changes when pyproject.toml or the extras change, so `install` reruns only then.
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml; echo "$(EXTRAS)") | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install docker test test-fast run bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing turngym[$(EXTRAS)] into $(VENV) (first time: a few minutes)"
	$(PY) -m pip install -q -e '.[$(EXTRAS)]' 2>&1 | { grep -v "^WARNING: Location" || true; }
	rm -f $(VENV)/.installed-*
	touch $@

# A Docker engine (installed with apt and started when missing and root); see .ci/ensure-docker.
docker:
	@bash .ci/ensure-docker || { rc=$$?; if [ "$$rc" = 2 ] && [ "$${CI:-}" != "true" ]; then echo "no Docker engine and not root: Docker tests will be skipped"; else exit $$rc; fi; }

test: install docker
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-fast: install
	$(PY) -m pytest -m "not slow and not docker" $(PYTEST_ARGS)

run: install docker
	$(VENV)/bin/turngym list
	$(VENV)/bin/turngym eval --suite baselines --out results/baselines.jsonl --plot results/baselines.png

bench: install docker
	$(VENV)/bin/turngym bench

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) results .pytest_cache
