# Two entry points (README): `make run` and `make test`. Each sets up what it needs.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

DATASETS ?= ../shared/datasets
KPIBOT_DATASETS = KPIBOT_CONFIG=config/datasets.toml $(VENV)/bin/kpibot

.PHONY: run test lint bench install maven cdnow

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/kpibot run --migrate

# The public datasets, each into a store of its own (never the demo company's kpibot.db), in USD.
maven: $(STAMP)
	DATABASE_URL=sqlite:///maven.db $(KPIBOT_DATASETS) import $(DATASETS)/maven_crm_sales_opportunities --mapping maven

cdnow: $(STAMP)
	DATABASE_URL=sqlite:///cdnow.db $(KPIBOT_DATASETS) import $(DATASETS)/cdnow_transactions --mapping cdnow

test: $(STAMP)
	scripts/test-services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
