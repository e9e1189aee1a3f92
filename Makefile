# Set-up and checks. `make demo` on a fresh Debian machine with Python 3.11 installs everything
# and trains the demo; `make test` runs the default test suite (heavier tests: `make test-slow`).
PYTHON ?= python3
PIP = $(PYTHON) -m pip
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test test-slow bench

install:
	# The pinned CPU wheel first: an open `torch` requirement would pull several GB of CUDA packages.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[test,browser,tensorboard,emoji]'
	# Fashion-MNIST from Debian where apt exists (gankit also finds it via --data-root or a download).
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq dataset-fashion-mnist || \
		echo "note: could not install dataset-fashion-mnist; gankit will download Fashion-MNIST when online"; \
	fi
	# The colour emoji of the translation datasets (emoji, emojione, edges2emoji, emojione2noto).
	@if { [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || \
	      ! ls -d /usr/share/rubygems-integration/all/gems/gemojione-* >/dev/null 2>&1; } && command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-noto-color-emoji ruby-gemojione || \
		echo "note: could not install fonts-noto-color-emoji / ruby-gemojione; the emoji datasets need them"; \
	fi
	# The system Chromium and its driver for the headless-browser tests (`make test-slow`); they skip without them.
	@if ! command -v chromedriver >/dev/null && command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver || \
		echo "note: could not install chromium/chromium-driver; the browser tests will skip"; \
	fi

demo: install
	gankit demo

test:
	$(PYTHON) -m pytest -q

test-slow:
	$(PYTHON) -m pytest -q -m slow

bench:
	$(PYTHON) benchmarks/throughput.py
