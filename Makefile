# `make demo`, `make test`, `make paper`. Each creates .venv when it is missing; `make test` and
# `make paper` install graphviz (for the DAG drawings) when it is missing and apt-get can.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_TARGET ?= all
CORES ?= 2
PYTEST_ARGS ?=
PAPER_CONFIG ?= configs/demo.yaml
PAPER_ARGS ?= --cores $(CORES)

.PHONY: demo test lint paper graphviz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps evalplus==0.3.1
	touch $@

# Offline: a model load that would reach a hub fails, as it would on a laptop without network.
demo: $(STAMP)
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/snakemake --configfile configs/demo.yaml --cores $(CORES) $(DEMO_TARGET)

test: $(STAMP) graphviz
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The archive for the paper (results/paper/): brings the run of PAPER_CONFIG up to date, then writes
# its graphs, report, manifest and sources. On a cluster: PAPER_CONFIG=config.yaml PAPER_ARGS="--profile slurm".
paper: $(STAMP) graphviz
	$(BIN)/snakemake --configfile $(PAPER_CONFIG) $(PAPER_ARGS)
	$(BIN)/python -m phi1repro.archive --configfile $(PAPER_CONFIG)

graphviz:
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q graphviz; } || \
		echo "graphviz is missing: install it (apt-get install graphviz) for make paper and its tests"

lint: $(STAMP)
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs .snakemake
