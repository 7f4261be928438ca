# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := h5_pages/static/vendor/weui.min.css

.PHONY: run test test-browser lint bench migrations clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# WeUI (WeChat's own design language) from the npm registry; never copied into the repo.
$(VENDOR):
	npm install --no-audit --no-fund --silent --prefix .npm weui@2.6.26
	mkdir -p h5_pages/static/vendor
	cp .npm/node_modules/weui/dist/style/weui.min.css $(VENDOR)

run: $(STAMP) $(VENDOR)
	SANDBOX=1 $(BIN)/python server.py migrate
	SANDBOX=1 $(BIN)/python server.py load-demo
	SANDBOX=1 $(BIN)/python server.py serve

test: $(STAMP) $(VENDOR)
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

test-browser: $(STAMP) $(VENDOR)
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .

# The load generator is wrk (Debian's package); BENCH_ARGS picks parts, e.g. "callback --rounds 1".
bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

# Regenerate migrations from the models (tortoise's built-in migration engine).
migrations: $(STAMP)
	SANDBOX=1 $(BIN)/tortoise -c core.db.TORTOISE_ORM makemigrations

clean:
	rm -rf $(VENV) .npm h5_pages/static/vendor data
