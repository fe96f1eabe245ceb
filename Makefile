# Two entry points (README): `make run` and `make test`. Each sets up what it needs.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
FONTS := bot/sandbox/vendor/fonts/.installed

DATASETS ?= ../shared/datasets
KPIBOT_DATASETS = KPIBOT_CONFIG=config/datasets.toml $(VENV)/bin/kpibot

.PHONY: run test lint bench install maven cdnow

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# the sandbox page's emoji font (Debian's fonts-noto-color-emoji, unpacked; the page works without it)
$(FONTS): scripts/sandbox-fonts
	scripts/sandbox-fonts
	mkdir -p bot/sandbox/vendor/fonts && touch $@

install: $(STAMP) $(FONTS)

run: $(STAMP) $(FONTS)
	$(VENV)/bin/kpibot run --migrate

# The public datasets, each into a store of its own (never the demo company's kpibot.db), in USD.
maven: $(STAMP)
	DATABASE_URL=sqlite:///maven.db $(KPIBOT_DATASETS) import $(DATASETS)/maven_crm_sales_opportunities --mapping maven

cdnow: $(STAMP)
	DATABASE_URL=sqlite:///cdnow.db $(KPIBOT_DATASETS) import $(DATASETS)/cdnow_transactions --mapping cdnow

test: $(STAMP) $(FONTS)
	scripts/test-services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
