# fingerspell: every target creates the virtual environment first if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	# mediapipe's declared dependencies pull opencv-contrib-python, which collides with the
	# headless OpenCV build: install it alone (../shared/STACK.md).
	$(BIN)/pip install -q --no-deps mediapipe==0.10.14
	$(BIN)/pip install -q --no-deps -e .
	# The browser app's front-end packages, pinned in package-lock.json, served by the app itself
	# (no install scripts: none of them needs one, and swagger-ui-dist's analytics one must not run).
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python -m fingerspell.web.assets node_modules
	touch $(STAMP)

# The main job: the browser app with the bundled default model (open the printed URL).
run: setup
	$(BIN)/fingerspell serve $(SERVE)

test: setup
	$(BIN)/python -m pytest -q -n 2 tests

bench: setup
	$(BIN)/python bench/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info
