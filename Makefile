# The two commands a newcomer needs: `make run` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench accuracy fuzz model parser parser-package clean

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
	$(MAKE) parser

# The dependency parser in models/ofsted_parser, trained from UD_English-EWT (training/README.md):
# one thread, fixed seed, ~20 minutes. `python training/build_treebank.py` redoes the .spacy files.
PARSER_DATA := training/ud-english-ewt
PARSER_OUT := training/output
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
parser: install
	rm -rf $(PARSER_OUT) && mkdir -p $(PARSER_OUT)
	@echo "training the parser (one thread, ~20 minutes); progress in $(PARSER_OUT)/train.log"
	start=$$(date +%s); \
	$(ONE_THREAD) $(BIN)/python -m spacy train training/parser.cfg --output $(PARSER_OUT) \
		--paths.train $(PARSER_DATA)/train.spacy --paths.dev $(PARSER_DATA)/dev.spacy --system.seed 0 \
		> $(PARSER_OUT)/train.log 2>&1 || { tail -20 $(PARSER_OUT)/train.log; exit 1; }; \
	echo $$(( $$(date +%s) - start )) > $(PARSER_OUT)/train-seconds; tail -5 $(PARSER_OUT)/train.log
	$(MAKE) parser-package

# Evaluate model-best on EWT test, fill meta.json, copy licence and attribution: models/ofsted_parser.
parser-package: install
	$(ONE_THREAD) $(BIN)/python training/package_parser.py $(PARSER_OUT)/model-best models/ofsted_parser

clean:
	rm -rf $(VENV) outputs/* .pytest_cache
