# bbupgraded: build, test, install.
#
#   make            build bbupgraded and bbctl into $(O)/
#   make check      install missing build dependencies (Debian 12), then run every test
#   make demo       the rolling upgrade on the bundled simulator
#   make bench-upgrade  efficiency, API calls, peak RSS and restart time of upgrades
#   make install    install binaries, man pages, systemd units, example config
#
# Honours CC CFLAGS CPPFLAGS LDFLAGS PREFIX DESTDIR; WERROR=1 adds -Werror;
# SANITIZE=address,undefined builds into build-san/ with the sanitizers.

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
UNITDIR   ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
PKG_CONFIG ?= pkg-config

CFLAGS    ?= -O2 -g
WARN       = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN      += -Werror
endif
ifneq ($(SANITIZE),)
O         ?= build-san
SANFLAGS   = -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
else
O         ?= build
endif

LIBS_COMMON = jansson inih libcrypto
LIBS_DAEMON = $(LIBS_COMMON) libuv sqlite3 libcurl libxml-2.0
LIBS_CLIENT = $(LIBS_COMMON)
LIBS_SIM    = $(LIBS_COMMON) libmicrohttpd
LIBS_TEST   = $(sort $(LIBS_DAEMON) $(LIBS_SIM)) check
pc_cflags   = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs     = $(shell $(PKG_CONFIG) --libs $(1))

ALL_CPPFLAGS = -I. -I$(O)/gen -D_GNU_SOURCE -DBB_VERSION=\"$(VERSION)\" $(CPPFLAGS)
ALL_CFLAGS   = -std=c11 $(WARN) $(SANFLAGS) $(CFLAGS) \
               $(call pc_cflags,$(sort $(LIBS_TEST)))
ALL_LDFLAGS  = $(SANFLAGS) $(LDFLAGS)

COMMON_SRC  = $(wildcard common/*.c)
DAEMON_SRC  = $(wildcard daemon/*.c daemon/*/*.c)
CLIENT_SRC  = $(wildcard client/*.c)
SIM_SRC     = $(wildcard sim/*.c sim/*/*.c)
TEST_SRC    = $(wildcard tests/check_*.c)
GEN_SRC     = $(O)/gen/embedded.c
EMBEDDED    = $(sort $(wildcard schema/*.sql)) schema/io.bbupgraded.varlink

COMMON_OBJ  = $(COMMON_SRC:%.c=$(O)/%.o)
DAEMON_OBJ  = $(DAEMON_SRC:%.c=$(O)/%.o) $(O)/gen/embedded.o
CLIENT_OBJ  = $(CLIENT_SRC:%.c=$(O)/%.o)
SIM_OBJ     = $(SIM_SRC:%.c=$(O)/%.o)
TEST_OBJ    = $(TEST_SRC:%.c=$(O)/%.o)
DAEMON_LIBOBJ = $(filter-out $(O)/daemon/main.o,$(DAEMON_OBJ))
SIM_LIBOBJ  = $(filter-out $(O)/sim/main.o,$(SIM_OBJ))
# Every tests/check_<module>.c is a suite of the one runner.
SUITES      = $(filter-out main,$(TEST_SRC:tests/check_%.c=%))

BINS = $(O)/bbupgraded $(O)/bbctl $(if $(wildcard sim/main.c),$(O)/bbsim)

all: $(BINS)

FORCE:
.PHONY: FORCE all deps check test unit e2e lint-man lint-systemd demo install clean bench-idle bench-aws bench-sim bench-upgrade

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(GEN_SRC): $(EMBEDDED) schema/embed.sh
	@mkdir -p $(@D)
	sh schema/embed.sh $(EMBEDDED) > $@.tmp && mv $@.tmp $@

$(O)/gen/embedded.o: $(GEN_SRC)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libcommon.a: $(COMMON_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(O)/bbupgraded: $(DAEMON_OBJ) $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(LIBS_DAEMON))

$(O)/bbctl: $(CLIENT_OBJ) $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(LIBS_CLIENT))

$(O)/bbsim: $(SIM_OBJ) $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(LIBS_SIM)) -lm

$(O)/gen/suites.h: FORCE
	@mkdir -p $(@D)
	@printf 'SUITE(%s)\n' $(SUITES) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(TEST_OBJ): $(O)/gen/suites.h

$(O)/check_all: $(TEST_OBJ) $(DAEMON_LIBOBJ) $(SIM_LIBOBJ) $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(LIBS_TEST)) -lm

# Debian 12 packages needed to build and test; installed only when missing.
DEB_PACKAGES = gcc libc6-dev pkgconf libuv1-dev libcurl4-openssl-dev libssl-dev \
               libjansson-dev libsqlite3-dev check libxml2-dev libinih-dev \
               libmicrohttpd-dev mandoc python3 procps openssl curl \
               awscli python3-botocore
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:" $$missing >&2; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

check: deps
	@$(MAKE) --no-print-directory test

test: unit e2e lint-man lint-systemd

unit: $(O)/check_all $(BINS)
	BB_BIN=$(O) $(O)/check_all

e2e: $(BINS)
	@for t in tests/e2e/test_*; do \
	  echo "== $$t"; BB_BIN=$(O) $$t || exit 1; \
	done

lint-man:
	@sh tests/lint-man.sh docs/*.[1-8]

lint-systemd:
	@sh tests/lint-systemd.sh systemd

$(O)/bench_aws: $(O)/tests/bench/bench_aws.o $(DAEMON_LIBOBJ) $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(LIBS_DAEMON))

bench-aws: $(O)/bench_aws
	$(O)/bench_aws 20000

$(O)/bench_sim: $(O)/tests/bench/bench_sim.o $(O)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(LIBS_COMMON))

bench-sim: $(O)/bench_sim $(BINS)
	$(O)/bench_sim $(O) 4 5
	$(O)/bench_sim $(O) 64 5

bench-idle: $(BINS)
	sh tests/bench/idle.sh $(O) 60

bench-upgrade: $(BINS)
	python3 tests/bench/upgrade.py $(O)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh sim/demo.sh $(O)

install: $(BINS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/bbupgraded $(DESTDIR)$(DATADIR)/bbupgraded \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	  $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -d -m 700 $(DESTDIR)$(SYSCONFDIR)/bbupgraded/credentials
	install -m 755 $(O)/bbupgraded $(DESTDIR)$(SBINDIR)/bbupgraded
	install -m 755 $(O)/bbctl $(DESTDIR)$(BINDIR)/bbctl
	$(O)/bbctl completion bash > $(DESTDIR)$(DATADIR)/bash-completion/completions/bbctl
	install -m 644 docs/bbctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/bbupgraded.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 docs/bbupgraded.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/bbupgraded.service > $(DESTDIR)$(UNITDIR)/bbupgraded.service
	install -m 644 systemd/bbupgraded.socket $(DESTDIR)$(UNITDIR)/
	install -m 644 systemd/bbupgraded.sysusers $(DESTDIR)$(SYSUSERSDIR)/bbupgraded.conf
	install -m 644 systemd/bbupgraded.tmpfiles $(DESTDIR)$(TMPFILESDIR)/bbupgraded.conf
	install -m 644 docs/bbupgraded.conf.example $(DESTDIR)$(DATADIR)/bbupgraded/
	test -e $(DESTDIR)$(SYSCONFDIR)/bbupgraded/bbupgraded.conf || \
	  install -m 640 docs/bbupgraded.conf.example $(DESTDIR)$(SYSCONFDIR)/bbupgraded/bbupgraded.conf
	@# On the live system (no DESTDIR): create the user, the directories, reload systemd.
	@if [ -z "$(DESTDIR)" ]; then \
	  if command -v systemd-sysusers >/dev/null; then systemd-sysusers $(SYSUSERSDIR)/bbupgraded.conf; fi; \
	  if command -v systemd-tmpfiles >/dev/null; then systemd-tmpfiles --create $(TMPFILESDIR)/bbupgraded.conf; fi; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

clean:
	rm -rf build build-san

-include $(shell find $(O) -name '*.d' 2>/dev/null)
