# attendant: set-up, demo and tests. `make run` and `make test` are the entry points.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Debian packages: SIP test peers (sip-tester = SIPp, baresip), audio tools
# (sox, espeak-ng), PocketSphinx (library, headers, English model, CLI tools)
# tcpdump for capturing evidence, PostgreSQL (the storage and admin tests run on
# both backends) and Chromium with its WebDriver (the console's browser test).
# kamailio: the SIP load balancer in front of several nodes (cluster tests).
APT_PACKAGES := sip-tester baresip-core sox espeak-ng libpocketsphinx-dev libsphinxbase-dev \
                pocketsphinx-en-us pocketsphinx tcpdump pkg-config python3-pip \
                postgresql chromium chromium-driver kamailio

CARGO_TARGET_DIR ?= target
export CARGO_TARGET_DIR
ATTENDANT := $(CARGO_TARGET_DIR)/debug/attendant
# Optional configuration file: make run CONFIG=config/attendant.toml
CONFIG ?=
CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG))
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup setup-asr build seed prompts run test test-postgres dev-corpus

## setup: install the missing Debian packages (a no-op when all are present), then setup-asr.
setup:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
	    dpkg -s "$$package" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then \
	    echo "setup: all Debian packages present"; \
	else \
	    echo "setup: installing$$missing"; \
	    $(SUDO) apt-get install -y $$missing || { $(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; }; \
	fi
	@scripts/install-voices.sh
	@$(MAKE) --no-print-directory setup-asr

## dev-corpus: the development corpus (docs/dev-corpus.md): full under var/corpus,
## the committed subset under fixtures/audio/dev.
dev-corpus:
	scripts/make-dev-corpus.py

## setup-asr: speech models and engine libraries (scripts/fetch-models.sh, when present).
setup-asr:
	@if [ -x scripts/fetch-models.sh ]; then scripts/fetch-models.sh; \
	else echo "setup-asr: scripts/fetch-models.sh not present, nothing to fetch"; fi

build:
	cargo build

## seed: write the demo stores ("1000" English, "2000" French) into the database.
seed: build
	$(ATTENDANT) demo-seed $(CONFIG_ARG)

## prompts: synthesise the default and per-store prompt WAVs under var/prompts.
prompts: seed
	ATTENDANT=$(ATTENDANT) scripts/make-prompts.sh $(CONFIG_ARG)

## run: everything needed, then the attendant with the demo stores.
run: setup prompts
	$(ATTENDANT) run --demo --admin-listen 127.0.0.1:8080 $(CONFIG_ARG)

## test: everything needed, then all tests with TEST_RUNNER: nextest when
## cargo-nextest is installed (its Summary line ends the output), else cargo
## (cargo test, followed by a summary summed over the test binaries).
TEST_RUNNER ?= $(shell cargo nextest --version >/dev/null 2>&1 && echo nextest || echo cargo)
# A throwaway PostgreSQL cluster serves the PostgreSQL variants of the storage
# and admin tests (ATTENDANT_TEST_PG_URL); it is stopped whatever the outcome.
PG_START := eval "$$(scripts/start-postgres.sh)"; \
	trap 'runuser -u postgres -- "$$(dirname "$$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n1)")/pg_ctl" -D "$$ATTENDANT_TEST_PG_DIR" -m fast stop >/dev/null 2>&1 || true' EXIT
test: setup prompts
	@mkdir -p var
ifeq ($(TEST_RUNNER),nextest)
	@$(PG_START); status=0; cargo test --doc || status=$$?; \
	cargo nextest run --no-fail-fast || status=$$?; \
	exit $$status
else
	@$(PG_START); status=0; cargo test --no-fail-fast 2>&1 | tee var/test.log || status=$$?; \
	awk '/^test result:/ { p += $$4; f += $$6; i += $$8 } \
	     END { printf "Summary: %d passed, %d failed, %d ignored\n", p, f, i }' var/test.log; \
	exit $$status
endif

## test-postgres: the storage tests on a throw-away PostgreSQL server too (needs
## the Debian package postgresql, which make setup does not install).
test-postgres:
	scripts/test-postgres.sh
