#!/bin/sh
# run.sh - build the libFuzzer targets and run each one for a while.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS per target (default 20); TARGETs among req proto path netpolicy proxyparse (default all).
# Needs clang with its runtimes (Debian 12: clang libclang-rt-14-dev) and
# libjansson-dev. Binaries, growing corpora (build/fuzz/corpus/TARGET, seeded
# from tests/fuzz/seeds/TARGET) and crash inputs (build/fuzz/crash-TARGET-*)
# stay under build/fuzz. Exits 1 if any target found a crash.
# Reproduce a crash: build/fuzz/fuzz_TARGET build/fuzz/crash-TARGET-...
set -eu

cd "$(dirname "$0")/../.."
secs=${1:-20}
[ $# -gt 0 ] && shift
targets=${*:-req proto path netpolicy proxyparse}
cc=${FUZZ_CC:-clang}
out=build/fuzz

command -v "$cc" >/dev/null || { echo "run.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
mkdir -p "$out"
for t in $targets; do
	# shellcheck disable=SC2046 # word splitting of pkg-config output is meant
	"$cc" -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Iinclude -Icommon -o "$out/fuzz_$t" "tests/fuzz/fuzz_$t.c" common/*.c \
		$(pkg-config --cflags --libs jansson)
done

failed=""
for t in $targets; do
	mkdir -p "$out/corpus/$t"
	set -- "$out/corpus/$t"
	[ -d "tests/fuzz/seeds/$t" ] && set -- "$@" "tests/fuzz/seeds/$t"
	[ -f "tests/fuzz/$t.dict" ] && set -- -dict="tests/fuzz/$t.dict" "$@"
	echo "== fuzz_$t for ${secs}s" >&2
	if ! "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/crash-$t-" "$@"; then
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "run.sh: crashes in:$failed (inputs in $out/crash-*)" >&2
	exit 1
fi
echo "run.sh: no crashes in: $targets" >&2
