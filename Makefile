# deskbox - build, test, bench and run. Every entry point installs what it
# needs first (scripts/deps.sh), so `make run` and `make test` work on a fresh
# Debian 12 machine as root.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
LISTEN  ?= 127.0.0.1:8080
PYTHON  ?= /usr/bin/python3

PKGS_SERVER  := libwebsockets jansson libseccomp libvncserver
PKGS_EGRESS  := libcares jansson libseccomp
PKGS_DESKTOP := x11 xext xtst xdamage xfixes xrandr libturbojpeg spng jansson

WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wno-unused-parameter -Wno-format-truncation
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Icommon -fno-strict-aliasing
LDFLAGS ?=

ifeq ($(SANITIZE),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
endif

# Pure modules: no I/O beyond their arguments, no globals. Linked into the
# programs and, alone, into the cmocka unit tests and fuzz targets.
PURE_SRC    := $(wildcard common/*.c)
SERVER_SRC  := $(filter-out server/%_pure.c,$(wildcard server/*.c))
INIT_SRC    := $(wildcard init/*.c)
EGRESS_SRC  := $(wildcard egress/*.c)
CLI_SRC     := $(wildcard clients/cli/*.c)
DESKTOP_SRC :=
-include desktop/build.mk

PURE_OBJ    := $(PURE_SRC:%.c=$(BUILD)/obj/%.o)
SERVER_OBJ  := $(SERVER_SRC:%.c=$(BUILD)/obj/%.o)
INIT_OBJ    := $(INIT_SRC:%.c=$(BUILD)/obj/init/%.o) $(BUILD)/obj/init/common/proto.o
DESKTOP_OBJ := $(DESKTOP_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ     := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
# The egress helper shares the sandbox seccomp filter and the log format.
EGRESS_OBJ  := $(EGRESS_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/server/seccomp.o $(BUILD)/obj/server/log.o
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The fuzz targets (tests/fuzz/fuzz_NAME.c), also built without libFuzzer
# as replayers of their committed seeds and crash inputs (make unit).
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)
FUZZ_SECONDS ?= 30

PROGS := $(BUILD)/deskboxd $(BUILD)/deskbox-init $(BUILD)/deskbox-egress $(BUILD)/deskbox
ifneq ($(DESKTOP_SRC),)
PROGS += $(BUILD)/deskbox-desktop $(BUILD)/deskbox-xkbcomp
endif

.PHONY: all deps deps-test deps-bench test-npm test check-long unit integration security browser bench run clean rootfs web docs image deploy-npm fuzz print-pure-src
all: deps $(PROGS) web examples/node_modules/.package-lock.json

# The browser UI's assets (noVNC, xterm.js) come from npm into web/vendor/.
web:
	@sh web/build.sh

# The Node.js example's ws client, exact version from its lock file.
examples/node_modules/.package-lock.json: examples/package.json examples/package-lock.json
	cd examples && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps:
	@sh scripts/deps.sh build
deps-test: deploy-npm
	@sh scripts/deps.sh build test image deploy
deps-bench: deploy-npm
	@sh scripts/deps.sh build test bench image deploy
# npm packages the tests drive deskboxd with (the MCP SDK client).
test-npm:
	@sh tests/mcp/install.sh

# The Kubernetes manifests' schema checks (tests/integration/test_deploy_k8s.py)
# use npm's kubernetes-models, installed from deploy/package-lock.json.
deploy-npm: deps
	@sh deploy/npm.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The sandbox init is static and never sanitized: it is exec'd by fd inside
# the jail, where the host's loader and the sanitizer runtimes may be absent.
INIT_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Icommon -O2 -g
$(BUILD)/obj/init/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(INIT_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libpure.a: $(PURE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/deskboxd: $(SERVER_OBJ) $(BUILD)/libpure.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(PKGS_SERVER))

$(BUILD)/deskbox-init: $(INIT_OBJ)
	$(CC) -static -o $@ $^

# Bound over /usr/bin/xkbcomp in host-mode sandboxes (desktop/xkbstub.c):
# static and unsanitized like init, and Xvfb runs it on every start.
$(BUILD)/deskbox-xkbcomp: $(BUILD)/obj/init/desktop/xkbstub.o
	$(CC) -static -o $@ $^

$(BUILD)/deskbox-egress: $(EGRESS_OBJ) $(BUILD)/libpure.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(PKGS_EGRESS))

# The command-line client (clients/cli/).
$(BUILD)/deskbox: $(CLI_OBJ) $(BUILD)/libpure.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs jansson)

$(BUILD)/deskbox-desktop: $(DESKTOP_OBJ) $(BUILD)/libpure.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(PKGS_DESKTOP)) -lm

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpure.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcmocka $(shell pkg-config --libs jansson) -lm $(UNIT_LIBS)

# A fuzz target with tests/fuzz/replay.c's main(): seeds and crash inputs.
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libpure.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idesktop $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs jansson) -lX11 -lm

unit: deps-test all $(UNIT_BIN) $(FUZZ_REPLAY)
	@set -e; for t in $(UNIT_BIN); do $$t; done
	@set -e; for t in $(FUZZ_NAMES); do \
		$(BUILD)/tests/replay_$$t tests/fuzz/seeds/$$t tests/fuzz/regress/$$t; done

# Each fuzz target for FUZZ_SECONDS (clang's libFuzzer; tests/fuzz/run.sh).
fuzz: deps
	@sh scripts/deps.sh build fuzz
	FUZZ_SRC="$(PURE_SRC)" sh tests/fuzz/run.sh $(FUZZ_SECONDS)

print-pure-src:
	@echo $(PURE_SRC)

integration: deps-test all test-npm
	DESKBOX_BUILD=$(BUILD) $(PYTHON) tests/integration/run.py

# The escape suite: attacks from inside sandboxes (tests/security/).
security: deps-test all
	DESKBOX_BUILD=$(BUILD) $(PYTHON) tests/security/run.py

browser: deps-test all
	DESKBOX_BUILD=$(BUILD) $(PYTHON) tests/browser/test_browser.py

test: unit integration security browser

# The long suites (tests/long/: 500-cycle soak, LeakSanitizer run of deskboxd,
# long load run); CI runs them after `make test` (.ci/run).
check-long: deps-test all test-npm
	DESKBOX_BUILD=$(BUILD) $(PYTHON) tests/long/run.py

# docs/operations.md and docs/openapi.json are generated from the operation
# table (tests check both).
docs: all
	$(BUILD)/deskboxd --list-ops | $(PYTHON) scripts/opsdoc.py > docs/operations.md
	$(BUILD)/deskboxd --list-ops | $(PYTHON) docs/openapi.py > docs/openapi.json

bench: deps-bench all test-npm
	DESKBOX_BUILD=$(BUILD) $(PYTHON) tests/bench/run.py

run: all
	$(BUILD)/deskboxd --listen $(LISTEN)

# deskbox's OCI image from Debian packages (deploy/image/build.sh): the
# debootstrapped root is cached in $(BUILD)/image/, the image lands in the
# local containers storage and as $(BUILD)/image/deskbox.oci.tar.
image: all
	@sh scripts/deps.sh build image
	sh deploy/image/build.sh $(BUILD)

rootfs:
	@sh scripts/deps.sh build rootfs
	sh rootfs/build.sh

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
