# Two commands (see README): `make demo` and `make test`. Both set up everything they
# need on a fresh Debian 12 machine; a second run skips what is already installed.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

# Debian packages the product and the test suite use.
APT_PACKAGES := etcd-server etcd-client bird2 iptables ipset iproute2 \
	containernetworking-plugins iputils-ping conntrack nftables openssl procps \
	python3 python3-venv python3-dev gcc

.PHONY: test demo setup apt venv unit integration dataplane e2e bench clean

setup: apt venv

# Install only what dpkg says is missing, so a second run costs one dpkg query.
apt:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt: installing $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests

unit: setup
	$(VENV)/bin/pytest -m unit $(PYTEST_ARGS) tests
integration: setup
	$(VENV)/bin/pytest -m integration $(PYTEST_ARGS) tests
dataplane: setup
	$(VENV)/bin/pytest -m dataplane $(PYTEST_ARGS) tests
e2e: setup
	$(VENV)/bin/pytest -m e2e $(PYTEST_ARGS) tests

# The lab demo: a 3-node cluster in network namespaces (KEEP=1 leaves it running).
demo: setup
	@if [ -f lab_py/demo.py ]; then $(PY) -m lab_py.demo $(if $(KEEP),--keep,); \
	else echo "The lab demo is not built yet (issue: the node, the lab and the demo)."; exit 1; fi

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
