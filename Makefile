# Kafka offset-commit workbook, in C with librdkafka.
# `make` (or `make help`) lists every target.

SHELL        := /bin/bash
.DEFAULT_GOAL := help

KAFKA_PORT ?= 9092
BROKER     ?= 127.0.0.1:$(KAFKA_PORT)
export KAFKA_PORT
TOPIC      ?= orders
PARTITIONS ?= 3
COUNT      ?= 100
GROUP      ?=
STEP       ?=

CC      ?= cc
# librdkafka's include folders as system folders (-isystem): -Wextra -Werror judge our code,
# not its header. From 2.3.0 on rdkafka.h declares a `const int` return type, an error under
# -Wextra -Werror when it comes through a plain -I (Homebrew's pkg-config gives one).
PKG_CFLAGS := $(patsubst -I%,-isystem%,$(shell pkg-config --cflags rdkafka 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs rdkafka 2>/dev/null || echo -lrdkafka)
CFLAGS  ?= -O2 -g
# override: `make CFLAGS=-O0` replaces the -O2 -g above but keeps the project's own flags.
override CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS)

TOOLS     := ping topic populate lag commits timeline analyze clock forget invoices
TOOL_BINS := $(addprefix build/tools/,$(TOOLS))
# Step folders with plain names only (NN_topic: letters, digits, _): a folder named
# 04_$(shell ...) would otherwise be expanded again below (.SECONDEXPANSION).
STEPS     := $(shell cd steps 2>/dev/null && ls -d [0-9][0-9]_*/ 2>/dev/null | tr -d / | grep -E '^[0-9]{2}_[A-Za-z0-9_]+$$')
STEP_BINS := $(addprefix build/steps/,$(STEPS))
SOL_BINS  := $(addprefix build/solutions/,$(STEPS))

# ---------------------------------------------------------------- building

# tools/ has a folder per role (tools/README.md): observers/ (the setup and observer tools),
# kit/ (what they share), analysis/ (the one analysis of a run), probe/, and step/ (the
# small kit every step includes).
KIT   := tools/kit/kit.c tools/kit/kit.h
STORY := tools/analysis/story.c tools/analysis/story_read.c tools/analysis/story.h

build/tools/%: tools/observers/%.c $(KIT) | build/tools
	$(CC) $(CFLAGS) -Itools/kit -o $@ $(filter %.c,$^) $(LDLIBS)

# commits --txn: the state of commits made in transactions lives in a file of its own.
build/tools/commits: tools/observers/commits.c tools/observers/commits_txn.c tools/observers/commits_txn.h $(KIT) | build/tools
	$(CC) $(CFLAGS) -Itools/kit -o $@ $(filter %.c,$^) $(LDLIBS)

# The facts of a crash-and-rerun story (story*.c), printed by analyze and drawn by timeline.
build/tools/analyze: tools/analysis/analyze.c $(STORY) $(KIT) | build/tools
	$(CC) $(CFLAGS) -Itools/kit -o $@ $(filter %.c,$^) $(LDLIBS)

build/tools/timeline: tools/analysis/timeline.c tools/analysis/timeline_term.c tools/analysis/timeline_svg.c \
                      tools/analysis/timeline.h $(STORY) $(KIT) | build/tools
	$(CC) $(CFLAGS) -Itools/kit -o $@ $(filter %.c,$^) $(LDLIBS)

# Loaded into a program under test (LD_PRELOAD): writes down its commit calls and settings.
build/tools/libprobe.so: tools/probe/probe.c tools/probe/faults.c tools/probe/txn.c tools/probe/probe.h | build/tools
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $(filter %.c,$^) -ldl $(LDLIBS)

# The sources, each quoted for the shell: a file named x;id>&2;.c stays a (bad) file name.
quote_sources = $(foreach f,$(filter %.c,$^),'$(subst ','\'',$(f))')

.SECONDEXPANSION:
build/steps/%: $$(wildcard steps/$$*/*.c) tools/step/step.c tools/step/step.h | build/steps
	$(CC) $(CFLAGS) -Itools/step -o '$@' $(quote_sources) $(LDLIBS)

build/solutions/%: $$(wildcard solutions/$$*/*.c) tools/step/step.c tools/step/step.h | build/solutions
	$(CC) $(CFLAGS) -Itools/step -o '$@' $(quote_sources) $(LDLIBS)

# Step 07 keeps its orders in SQLite.
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
build/steps/07_idempotent_sink build/solutions/07_idempotent_sink: LDLIBS += $(SQLITE_LIBS)
build/mutants/07_%: LDLIBS += $(SQLITE_LIBS)
build/alternatives/07_%: LDLIBS += $(SQLITE_LIBS)

build/tools build/steps build/solutions:
	@mkdir -p $@

# ---------------------------------------------------------------- targets

.PHONY: help deps build tools clean broker-up broker-down broker-status broker-logs \
        broker-reset topic populate lag commits invoices demo run check check-solutions test \
        status hint diff watch timeline compare grade bench bench-checks memcheck chaos \
        fresh-root librdkafka gradescope classroom

help: ## [learner] list every target (this text)
	@echo "Kafka offset-commit workbook. Usage: make <target> [VAR=value]"
	@for g in learner broker instructor maintainer; do \
	    echo; echo "$$g:"; \
	    awk -v g="[$$g]" 'BEGIN {FS = ":.*?## "} /^[a-zA-Z_-]+:.*?## / { split($$2, w, " "); if (w[1] == g) { sub(/^[^ ]+ /, "", $$2); printf "  %-16s %s\n", $$1, $$2 } }' $(MAKEFILE_LIST); \
	done; echo
	@echo "Variables: STEP=01 GROUP=... TOPIC=$(TOPIC) PARTITIONS=$(PARTITIONS) COUNT=$(COUNT) BROKER=$(BROKER)"

deps: ## [learner] install what is missing (Debian/Ubuntu; macOS: see README)
	@scripts/install-deps.sh

tools: $(TOOL_BINS) build/tools/libprobe.so ## [maintainer] build the observer tools into build/tools/

build: $(TOOL_BINS) $(STEP_BINS) $(SOL_BINS) ## [maintainer] build the tools, your steps and the solutions

clean: ## [maintainer] remove build/ (the broker and its data stay)
	rm -rf build

# ---------------------------------------------------------------- the broker

broker-up: build/tools/ping ## [broker] start Kafka (Docker if an engine answers, else native; KAFKA_MODE=docker|native)
	@scripts/broker.sh up

broker-down: ## [broker] stop Kafka; its data is kept
	@scripts/broker.sh down

broker-status: build/tools/ping ## [broker] mode, version, process, address, ready or not
	@scripts/broker.sh status

broker-logs: ## [broker] the broker's log (FOLLOW=1 to keep following)
	@scripts/broker.sh logs

broker-reset: ## [broker] stop Kafka and wipe its data
	@scripts/broker.sh reset

# ---------------------------------------------------------------- the exercise's setup

topic: build/tools/topic ## [learner] create TOPIC (orders) with PARTITIONS (3); idempotent
	@build/tools/topic -b $(BROKER) -t $(TOPIC) -p $(PARTITIONS)

populate: build/tools/populate ## [learner] write Order-1 .. Order-COUNT to TOPIC (once)
	@build/tools/populate -b $(BROKER) -t $(TOPIC) -n $(COUNT)

lag: build/tools/lag ## [learner] per partition of GROUP: committed offset, log end, lag
	@test -n "$(GROUP)" || { echo "usage: make lag GROUP=<consumer group> [TOPIC=$(TOPIC)]" >&2; exit 2; }
	@build/tools/lag -b $(BROKER) -g $(GROUP) -t $(TOPIC)

commits: build/tools/commits ## [learner] every offset commit the broker recorded for GROUP (TXN=1: kept, aborted or open)
	@test -n "$(GROUP)" || { echo "usage: make commits GROUP=<consumer group> [TXN=1]" >&2; exit 2; }
	@build/tools/commits -b $(BROKER) -g $(GROUP) --header $(if $(filter 1,$(TXN)),--txn)

invoices: build/tools/invoices ## [learner] step 09's invoices as a reader sees them: records, orders, duplicates (ISOLATION=read_uncommitted, OUT=invoices)
	@build/tools/invoices -b $(BROKER) -t $(or $(OUT),invoices) --isolation $(or $(ISOLATION),read_committed) --duplicates

# ---------------------------------------------------------------- the steps


run: tools ## [learner] run STEP=NN against the local broker with the exercise's timings (Ctrl+C stops it)
	@BROKER=$(BROKER) TOPIC=$(TOPIC) PARTITIONS=$(PARTITIONS) COUNT=$(COUNT) GROUP="$(GROUP)" ARGS="$(ARGS)" \
	    scripts/run.sh "$(STEP)"

chaos: tools ## [instructor] kill -9 STEP=NN at random RUNS=20 times across reruns; tally lost and duplicated
	@scripts/chaos.sh "$(STEP)" $(or $(RUNS),20)

check: ## [learner] check your code in steps/ (every step, or STEP=NN)
	@scripts/check.sh steps $(STEP)

check-solutions: ## [instructor] run every check on the reference solutions (or STEP=NN)
	@scripts/check.sh solutions $(STEP)

test: ## [maintainer] everything: foundation tests, checks on the solutions, starters must fail
	@scripts/test.sh

demo: ## [learner] from nothing: deps, broker, orders, a short consumer run, then lag and commits
	@scripts/demo.sh

status: ## [learner] one line per step: done, failing (and why) or not started; then what to do next
	@scripts/status.sh

hint: ## [learner] the next hint for STEP=NN, one more per call (RESET=1 starts again)
	@scripts/hint.sh "$(STEP)" $(if $(RESET),--reset)

diff: ## [learner] your STEP=NN file against the reference solution
	@scripts/diff.sh "$(STEP)"

watch: ## [learner] rebuild and recheck STEP=NN (or the next step to do) whenever you save
	@scripts/watch.sh "$(STEP)"

timeline: tools ## [learner] run STEP=NN with a crash and a rerun, then draw where commits landed
	@scripts/timeline.sh "$(STEP)"

compare: tools $(SOL_BINS) ## [instructor] the strategies side by side, measured: lost, duplicated, commits, msg/s
	@scripts/compare.sh

grade: ## [instructor] grade SUBMISSIONS=DIR in a sandbox (JOBS=N OUT=dir ONLY=name FORCE=1 GRADE_STEPS=02,03 WEIGHTS=f)
	@scripts/grade.sh $(if $(JOBS),-j '$(JOBS)') $(if $(OUT),-o '$(OUT)') $(if $(ONLY),--only '$(ONLY)') \
	    $(if $(filter 1,$(FORCE)),--force) $(if $(GRADE_STEPS),--steps '$(GRADE_STEPS)') $(if $(WEIGHTS),--weights '$(WEIGHTS)') \
	    '$(SUBMISSIONS)'

gradescope: ## [instructor] build/gradescope/autograder.zip for Gradescope (GRADE_STEPS=02,03 WEIGHTS=f RUN_TIMEOUT=s VISIBILITY=v)
	@GRADE_STEPS='$(GRADE_STEPS)' WEIGHTS='$(WEIGHTS)' VISIBILITY='$(VISIBILITY)' scripts/gradescope.sh

classroom: ## [instructor] write .github/workflows/classroom.yml, GitHub Classroom's autograding (GRADE_STEPS=, WEIGHTS=)
	@GRADE_STEPS='$(GRADE_STEPS)' WEIGHTS='$(WEIGHTS)' scripts/classroom.sh



bench: build ## [maintainer] measure start-up, memory, populate and commit-history figures
	@scripts/bench.sh

.PHONY: stress
stress: build ## [maintainer] checks under CPU burners: ROUNDS=20 of check-solutions and the alternatives, then a class graded at JOBS=4; every false failure
	@scripts/stress.sh

bench-checks: build ## [maintainer] time make check on each solution (RUNS=5): min, median, max per step
	@scripts/bench-checks.sh $(STEP)

memcheck: build ## [maintainer] run the tools and solutions under valgrind on a graceful exit
	@scripts/memcheck.sh

fresh-root: ## [maintainer] .ci/run in a new Debian root (SUITE=trixie|bookworm): debootstrap, then bubblewrap
	@scripts/fresh-root.sh "$(or $(SUITE),trixie)"

librdkafka: build/tools/ping ## [maintainer] build librdkafka V=2.12.1 from rdkafka-sys, run the checks and self-check on it
	@scripts/librdkafka-version.sh "$(V)"

# Programs the foundation tests use (checks/foundation/fixtures/*.c).
build/fixtures/%: checks/foundation/fixtures/%.c
	@mkdir -p build/fixtures
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

# decode includes tools/observers/commits.c (its main renamed) to test its decoder.
build/fixtures/decode: checks/foundation/fixtures/decode.c tools/observers/commits.c tools/observers/commits_txn.c $(KIT)
	@mkdir -p build/fixtures
	$(CC) $(CFLAGS) -Itools/observers -Itools/kit -o $@ $< tools/observers/commits_txn.c tools/kit/kit.c $(LDLIBS)

# Known-wrong solutions for the self-check (checks/mutants/*.patch applied to a solution).
build/mutants/%.c: checks/mutants/%.patch $$(shell sed -n 's|^--- a/||p' checks/mutants/$$*.patch)
	@mkdir -p build/mutants
	@patch -s -o $@ $$(sed -n 's|^--- a/||p' $<) <$<

build/mutants/%: build/mutants/%.c tools/step/step.c tools/step/step.h
	$(CC) $(CFLAGS) -Itools/step -o $@ $< tools/step/step.c $(LDLIBS)

# Correct alternatives (checks/alternatives/*.patch): the checks must accept them.
build/alternatives/%.c: checks/alternatives/%.patch $$(shell sed -n 's|^--- a/||p' checks/alternatives/$$*.patch)
	@mkdir -p build/alternatives
	@patch -s -o $@ $$(sed -n 's|^--- a/||p' $<) <$<

build/alternatives/%: build/alternatives/%.c tools/step/step.c tools/step/step.h
	$(CC) $(CFLAGS) -Itools/step -o $@ $< tools/step/step.c $(LDLIBS)
