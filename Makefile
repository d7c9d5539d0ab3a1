# fingerspell: every target creates the virtual environment first if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	# mediapipe's declared dependencies pull opencv-contrib-python, which collides with the
	# headless OpenCV build: install it alone (../shared/STACK.md).
	$(BIN)/pip install -q --no-deps mediapipe==0.10.14
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# The main job: recognise letters with the bundled default model.
run: setup
	$(BIN)/fingerspell predict ../shared/datasets/massey/asl_dataset --limit 40

test: setup
	$(BIN)/python -m pytest -q -n 2 tests

bench: setup
	$(BIN)/python bench/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) build *.egg-info
