# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: help install run test faults lint validate catalogs bench audit chat clean

help:
	@echo "make run       start the service (embedded Redis unless REDIS_URL is set), worker and simulator"
	@echo "make test      set up a virtual environment and run lint and the whole test suite"
	@echo "make faults    kill, stall and flood real processes (tests/faults, a few minutes)"
	@echo "make validate  check every flow under flows/"
	@echo "make bench     run the benchmark (results in bench/results/)"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

catalogs: $(STAMP)
	$(BIN)/bot i18n compile

validate: $(STAMP)
	$(BIN)/bot flows validate

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/lint-imports

test: $(STAMP) catalogs lint audit
	$(BIN)/bot flows validate
	$(BIN)/bot flows test
	$(BIN)/bot i18n check
	$(BIN)/bot flows questions --min-total 85 --min-lang 70
	$(BIN)/bot i18n coverage --required
	$(BIN)/python -m pytest -m "not faults"

# The fault suite (tests/faults, docs/reliability.md): real processes on free ports.
faults: $(STAMP) catalogs
	$(BIN)/python -m pytest tests/faults -m faults -rxX

# Security: bandit scans bot/ (exceptions are justified inline with `# nosec`), pip-audit
# checks the installed dependencies against PyPI's advisory data.
audit: $(STAMP)
	$(BIN)/bandit -q -c pyproject.toml -r bot
	$(BIN)/pip-audit --skip-editable --progress-spinner off

run: $(STAMP) catalogs
	$(BIN)/bot run

chat: $(STAMP) catalogs
	$(BIN)/bot chat

bench: $(STAMP) catalogs
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
	find locales -name '*.mo' -delete
