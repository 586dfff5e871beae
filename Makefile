# Everything a fresh machine needs is installed by these targets themselves.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT     := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
# Debian packages the tests need: the OCI registry, git (with http-backend and daemon), and
# skopeo, which `ocm transfer` copies OCI artifacts with.
DEBS    := docker-registry git skopeo

.PHONY: demo example-ctf test lint typecheck unit bench chaos fuzz screenshots system-deps clean

# pip runs with -qq: its warnings about package index locations configured for the machine
# are not the project's to act on, and would bury the demo's output; errors still show.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq --editable '.[test]'
	touch $@

# $(call install-debs,PACKAGES): the Debian packages of the list not yet installed
define install-debs
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(APT) update -qq && $(APT) install -y -qq $$missing >/dev/null; \
	fi
endef

system-deps:
	$(call install-debs,$(DEBS))

DEMO    := build/demo
# The example's component archive, rebuilt from the reference test inputs (committed; the test
# suite checks it still matches them).
EXAMPLE_CTF := examples/openmcp.ctf.tgz
CONSTRUCTOR := tests/fixtures/bootstrapper/manage-deployment-repo-01/component-constructor.yaml
NEXT_RELEASE := examples/releases/openmcp-v0.0.2.yaml

# Renders the example landscape, checks it is up to date, then writes what the App would post
# about the example's next release (its archive holds two): the upgrade pull request's body,
# its render check run and the summary comment, as Markdown and HTML in $(DEMO)/app.
demo: $(STAMP)
	rm -rf $(DEMO) && mkdir -p $(DEMO) && cp -r examples/. $(DEMO)/
	$(VENV)/bin/bootstrap-bot render --repo $(DEMO)/landscape
	$(VENV)/bin/bootstrap-bot render --repo $(DEMO)/landscape --check
	$(VENV)/bin/bootstrap-bot preview --repo $(DEMO)/landscape --out $(DEMO)/app

example-ctf: $(STAMP)
	rm -rf build/example-ctf
	$(VENV)/bin/bootstrap-bot ocm build $(CONSTRUCTOR) --to build/example-ctf
	$(VENV)/bin/bootstrap-bot ocm build $(NEXT_RELEASE) --to build/example-ctf
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C build/example-ctf -cf - . \
		| gzip -9n > $(EXAMPLE_CTF)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Three workers: most tests wait on real peers (git, the registry, kustomize), not on a core.
test: $(STAMP) system-deps lint typecheck
	$(VENV)/bin/pytest -n 3

bench: $(STAMP) system-deps
	$(PY) -m bench

# The seeded chaos test over many seeds (`make test` runs two); prints the figures at the end.
CHAOS_SEEDS ?= 1-20
chaos: $(STAMP) system-deps
	CHAOS_SEEDS=$(CHAOS_SEEDS) $(VENV)/bin/pytest -q tests/integration/flows/test_chaos.py

# The differential fuzzer: random templates on Go's text/template and sprig (Debian's, in
# GOPATH mode) and on the Python engine; prints the agreement and each bucket of disagreement
# with its smallest case (all of them in build/fuzz/report.json).
FUZZ_CASES ?= 100000
FUZZ_SEED  ?= 1
GO_DEBS    := golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
fuzz: $(STAMP)
	$(call install-debs,$(GO_DEBS))
	$(PY) -m tests.gotemplate.fuzz --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache

# The README's pictures, from the golden Markdown, by Debian's headless Chromium.
screenshots: $(STAMP)
	@dpkg-query -W -f='$${Status}\n' chromium fonts-noto-color-emoji 2>/dev/null | grep -c "ok installed" | grep -q 2 \
		|| { $(APT) update -qq && $(APT) install -y -qq chromium fonts-noto-color-emoji >/dev/null; }
	$(PY) -m docs.screenshots
