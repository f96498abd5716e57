# tabship: `make demo` runs the main job, `make test` the test suite (fresh machine ready).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
USECASE ?= credit_risk
DEMO_ROWS ?=
DEMO_PORT ?= 8000
DASHBOARD_PORT ?= 8501
export TABSHIP_HOME ?= $(CURDIR)/.tabship
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help venv demo test lint typecheck unit bench bench-features lock clean docs-training docs-house-prices bench-training bench-serving bench-explain bench-dashboard bench-monitor docs-dashboard

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI images often do),
# every command would otherwise recompile what it imports (tabship --help: 1.8 s -> 0.5 s).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python $(PYTHON) --compile-bytecode
	touch $@

venv: $(VENV)/.synced ## create .venv with every extra (locked versions)

lock: | $(UV) ## re-resolve uv.lock after changing pyproject.toml
	$(UV) lock --python $(PYTHON)

DEMO_TRIALS ?= 4
DEMO_USER ?= demo-reviewer

demo: venv ## generate, build features, train, approve, then serve (NO_SERVE=1 stops before)
	$(BIN)/tabship demo $(USECASE) $(if $(DEMO_ROWS),--rows $(DEMO_ROWS)) --trials $(DEMO_TRIALS) --by $(DEMO_USER) \
		--port $(DEMO_PORT) --dashboard-port $(DASHBOARD_PORT) $(if $(NO_SERVE),--no-serve)

docs-training: venv ## copy the demo champion's evaluation report into docs/training.md
	$(BIN)/tabship models report $(USECASE) champion --out docs/training
	cat docs/training-intro.md docs/training/report/report.md > docs/training.md
	sed -i 's#(evaluation.png)#(training/report/evaluation.png)#' docs/training.md

HOUSE_HOME := $(CURDIR)/.tabship-house-prices
docs-house-prices: venv ## house_prices on the real files (TABSHIP_DATA), full search; report into docs/house_prices.md
	@test -f "$$TABSHIP_DATA/house_prices/kc_house_data.csv" || \
		{ echo "error: TABSHIP_DATA must hold house_prices/kc_house_data.csv"; exit 1; }
	rm -rf $(HOUSE_HOME)
	TABSHIP_HOME=$(HOUSE_HOME) $(BIN)/tabship demo house_prices --trials 20 --no-serve
	TABSHIP_HOME=$(HOUSE_HOME) $(BIN)/tabship models report house_prices champion --out docs/house_prices
	cat docs/house_prices-intro.md docs/house_prices/report/report.md > docs/house_prices.md
	sed -i 's#(evaluation.png)#(house_prices/report/evaluation.png)#' docs/house_prices.md

lint: venv ## ruff lint and format check, layer contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

typecheck: venv ## mypy
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest

test: venv ## lint, type check, then every test (starts Redis and PostgreSQL where none runs)
	bash scripts/ensure-test-deps.sh
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/pytest

bench-features: venv ## 10M-row feature pipeline vs DuckDB, pandas and the notebook loop
	$(BIN)/python -m bench.bench_features

bench-training: venv ## 1M loans, 20-trial search, stage by stage
	$(BIN)/python -m bench.bench_training

bench-serving: venv ## the APIs vs mlflow models serve and two floors (wrk load)
	$(BIN)/python -m bench.bench_serving

bench-explain: venv ## explanations over HTTP vs a bare FastAPI + shap app; install sizes
	$(BIN)/python -m bench.bench_explain

bench-monitor: venv ## drift report over 1M logged predictions vs Evidently (throw-away venv)
	$(BIN)/python -m bench.bench_monitor

bench-scale: venv ## 10M loans scored Parquet to Parquet vs ONNX Runtime and MLflow; incremental builds
	$(BIN)/python -m bench.bench_scale

bench-dashboard: venv ## the dashboard in Chromium: first render, client switch, bytes per client
	bash scripts/ensure-test-deps.sh
	$(BIN)/python -m bench.bench_dashboard

docs-dashboard: venv ## the browser test's screenshot into docs/dashboard.png
	DASHBOARD_SCREENSHOTS=$(CURDIR)/docs $(BIN)/pytest -q tests/integration/dashboard/test_browser.py

bench: bench-features bench-training bench-serving bench-explain bench-dashboard bench-monitor bench-scale ## every benchmark; results in docs/benchmarks.md

clean: ## remove local state and environments
	rm -rf .tabship $(HOUSE_HOME) $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
