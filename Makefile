# netlab: `make run` serves it, `make test` runs the whole suite; both set up what is
# missing first (system packages, .venv, front-end packages) and are quick the second time.

# Debian's own Python where there is one: every user may run it, so the production layout's
# web server can run unprivileged from the same .venv (a Python under /root could not).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV := .venv
PY := $(VENV)/bin/python
export NETLAB_PORT ?= 8000

# Debian packages the lab needs (iproute2, nftables; tcpdump compiles capture filters; the
# console runs ping and tracepath, setpriv drops privileges), the browser tests (chromium),
# the production layout (redis-server, postgresql), the guest for the tests of what this
# machine's kernel lacks (qemu, busybox), and the setup itself (venv, npm).
SYSTEM_COMMANDS := ip:iproute2 nft:nftables tcpdump:tcpdump ping:iputils-ping tracepath:iputils-tracepath setpriv:util-linux chromium:chromium redis-server:redis-server npm:npm node:nodejs qemu-system-x86_64:qemu-system-x86
# Debian keeps PostgreSQL's server programs off PATH, under /usr/lib/postgresql/VERSION/bin.
POSTGRES_INITDB := $(wildcard /usr/lib/postgresql/*/bin/initdb)
# Debian's stock kernel, booted by that guest (netem as a module): a package, not a command.
SYSTEM_PACKAGES := linux-image-amd64 busybox-static

.PHONY: setup run test check lint bench bench-live soak system-packages clean

setup: system-packages $(VENV)/.installed node_modules/.installed

system-packages:
	@missing=""; \
	for pair in $(SYSTEM_COMMANDS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	[ -n "$(POSTGRES_INITDB)" ] || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	for package in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f '$${Status}' $$package 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "netlab needs these Debian packages:$$missing (run make as root, or apt-get install them)"; exit 1; \
	  fi; \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "netlab needs Python 3.11 or newer as $(PYTHON)"; exit 1; }
	@# --clear: a .venv left by another Python (or half made) is rebuilt, not patched.
	$(PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: setup
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py netlab ensure-admin
	$(PY) manage.py netlab serve

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

# The whole suite on SQLite, then the database and live layers again on PostgreSQL (a server
# the run starts as an unprivileged user on a private socket, and removes: tests/postgres_cluster.py).
test: lint
	node --test tests/js/
	$(VENV)/bin/pytest
	$(VENV)/bin/pytest --postgres tests/db tests/channels

# The engine against ip scripts and Mininet (Debian's, with Linux bridges: bridge-utils),
# then end to end (CLI, websocket) next to it, then the gallery and dashboard with 60 public
# designs of 1000 nodes (root).
BENCH_PACKAGES := mininet bridge-utils

bench: setup
	@for package in $(BENCH_PACKAGES); do \
	  dpkg-query -W -f '$${Status}' $$package 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages for the benchmark:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(PY) -m netlab.bench
	$(PY) tests/production/bench_e2e.py
	$(PY) tests/production/bench_pages.py

# The live lab in both layouts (root; needs redis-server): latency, fan-out, monitors.
bench-live: setup
	$(PY) tests/production/bench_live.py

# 500 deploy/destroy cycles of the bridge tutorial through the worker (root; needs
# redis-server): fds, worker RSS, namespaces, nft tables, /run/netlab must not grow.
soak: setup
	$(PY) tests/production/soak.py

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .mypy_cache .ruff_cache
