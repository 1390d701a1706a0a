# The README's two commands: `make demo` (set up, train, label the example policy, write its report) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := examples/northwind-notes.md

$(VENV)/.installed: pyproject.toml
	python3.11 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# the optional Ray engine (clf[ray]): the tests need it, so CI installs it through `make test`
$(VENV)/.ray-installed: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev,ray]'
	touch $@

install: $(VENV)/.installed

install-ray: $(VENV)/.ray-installed

# The demo trains the default config on six policies (1,428 units, every label) to stay within ~6 minutes;
# `clf train --model ensemble --out models/ensemble` trains it on all 36 (README: Training time).
DEMO_POLICIES := polyatomic,github-general,posthog,mozilla-firefox,basecamp,hack-club
demo: install
	HF_HUB_OFFLINE=1 $(BIN)/clf train --model ensemble --policies $(DEMO_POLICIES) --out models/ensemble
	$(BIN)/clf predict $(EXAMPLE) --model models/ensemble --summary
	$(BIN)/clf diff $(EXAMPLE) examples/northwind-notes-v2.md --model models/ensemble
	$(BIN)/clf report $(EXAMPLE) --model models/ensemble --out reports/northwind-notes.html
	@echo "report: $(CURDIR)/reports/northwind-notes.html (open it in a browser; it works offline)"

test: install-ray
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

benchmark: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/bench_inference.py

bench-split: install
	$(BIN)/python benchmarks/bench_split.py

benchmark-report: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/bench_report.py --model models/tfidf --model models/transformer
	$(BIN)/python -m clf.readme report-benchmark

screenshot: install
	HF_HUB_OFFLINE=1 $(BIN)/python docs/make_screenshot.py --model models/transformer

benchmark-train: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/bench_train.py --model ensemble --model tfidf
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/bench_train.py --model ensemble --policies $(DEMO_POLICIES)

benchmark-int8: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/bench_int8.py --model models/ensemble

benchmark-policies: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/bench_policies.py --model models/ensemble --model models/tfidf

benchmark-scaling: install-ray
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/bench_scaling.py

# the README's result tables (about 2 hours on 2 cores: the ensemble's nested fine-tunings dominate); then `make readme`
FIVE := polymetis,softwareplant,plumstack,piwik-pro,polyatomic
evaluate: install
	HF_HUB_OFFLINE=1 $(BIN)/clf evaluate --model tfidf --split grouped --out reports/tfidf
	HF_HUB_OFFLINE=1 $(BIN)/clf evaluate --model ensemble --split grouped --seeds 0 --jobs 2 --out reports/ensemble
	HF_HUB_OFFLINE=1 $(BIN)/clf learning-curve --model tfidf --split grouped --set 'search={}' --out reports/curves/tfidf.json
	HF_HUB_OFFLINE=1 $(BIN)/clf learning-curve --model transformer --split grouped --folds fold-1 --subsets 1 \
		--sizes 1,2,4,8 --out reports/curves/transformer.json
	HF_HUB_OFFLINE=1 $(BIN)/clf evaluate --model tfidf --split lopo --policies $(FIVE) --out reports/lopo5/tfidf
	HF_HUB_OFFLINE=1 $(BIN)/clf evaluate --model ensemble --split lopo --seeds 0 --jobs 2 --policies $(FIVE) --out reports/lopo5/ensemble

readme: install
	$(BIN)/python -m clf.readme

lint: install
	$(BIN)/ruff check .

.PHONY: install install-ray demo test lint readme evaluate benchmark bench-split benchmark-report screenshot benchmark-scaling benchmark-train benchmark-int8 benchmark-policies
