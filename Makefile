# ganaudio: every target sets up what it needs, so on a fresh machine
#   make demo   then   make test
# is the whole Quick start.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ganaudio-installed
SYSTEM_PACKAGES := libsndfile1 fluidsynth fluid-soundfont-gm timgm6mb-soundfont libportaudio2
PYTEST_ARGS ?=

.PHONY: install system-packages demo test bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory system-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,data,eval,live]"
	$(BIN)/python -c "import torch, torchaudio, librosa, pretty_midi, soundfile, fluidsynth; print('ganaudio environment ready: torch', torch.__version__, 'torchaudio', torchaudio.__version__)"
	touch $(STAMP)

# Debian packages: libsndfile, FluidSynth and two General MIDI SoundFonts
# (recorded instruments the data builders render notes from), PortAudio (live play). Installed only
# when running as root on a Debian-like system and something is missing.
system-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	else \
	  echo "not root or no apt-get: make sure these are installed: $(SYSTEM_PACKAGES)"; \
	fi

demo: $(STAMP)
	$(BIN)/python samples/demo.py --out out

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check ganaudio tests benchmarks recipes samples

clean:
	rm -rf out .pytest_cache build dist *.egg-info
