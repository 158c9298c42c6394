# The two commands a newcomer needs: `make run` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench accuracy fuzz model clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/ofsted-letters ingest corpus/ --out outputs/

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench.py

# ingest + evaluate on the seeds, ../shared/dev-set and three generated corpora; every figure with silent=
accuracy: install
	$(BIN)/python benchmarks/accuracy.py

# Damage generated letters at random and check every run's invariants, for MINUTES minutes.
MINUTES ?= 5
fuzz: install
	$(BIN)/python tests/fuzz.py --minutes $(MINUTES)

# Rebuild the spaCy pipeline in models/ after changing pipeline/data/statistics.toml.
model: install
	# a fixed hash seed: the sentencizer writes its set of stop characters in set order
	PYTHONHASHSEED=0 $(BIN)/python -m pipeline.nlp models/ofsted_letters

clean:
	rm -rf $(VENV) outputs/* .pytest_cache
