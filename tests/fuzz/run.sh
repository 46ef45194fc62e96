#!/bin/sh
# run.sh - build the libFuzzer targets and run each one for a while.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS per target (default 30); TARGETs are the NAMEs of
#   tests/fuzz/fuzz_NAME.c (default all of them). FUZZ_JOBS targets run at
#   once (default: the number of CPUs). `make fuzz` runs this with
#   FUZZ_SECONDS and installs clang (scripts/deps.sh fuzz).
# The pure sources (FUZZ_SRC, from the Makefile; else common/*.c and the
# agent's pure files) are compiled once with coverage instrumentation and
# ASan/UBSan into build/fuzz/libpure.a; each target links against it.
# Growing corpora (build/fuzz/corpus/TARGET) start from the committed seeds
# (tests/fuzz/seeds/TARGET) and past crash inputs (tests/fuzz/regress/TARGET,
# which `make unit` replays). Crash inputs land in build/fuzz/crash-TARGET-*,
# logs in build/fuzz/TARGET.log. Exits 1 if any target found a crash.
# Reproduce a crash: build/fuzz/fuzz_TARGET build/fuzz/crash-TARGET-...
set -eu

cd "$(dirname "$0")/../.."
secs=${1:-30}
[ $# -gt 0 ] && shift
all=$(for f in tests/fuzz/fuzz_*.c; do t=${f#tests/fuzz/fuzz_}; echo "${t%.c}"; done)
targets=${*:-$all}
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc)}
src=${FUZZ_SRC:-$(make -s --no-print-directory print-pure-src)}
out=build/fuzz
flags="-g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Iinclude -Icommon -Idesktop"
flags="$flags -fsanitize=address,undefined -fno-sanitize-recover=all $(pkg-config --cflags jansson)"

command -v "$cc" >/dev/null || { echo "run.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
mkdir -p "$out/obj"
rm -f "$out"/obj/*.o
export cc flags out
# shellcheck disable=SC2086 # $src is a word list
for f in $src; do echo "$f"; done |
	xargs -P "$jobs" -n 1 sh -c '$cc $flags -fsanitize=fuzzer-no-link -c -o "$out/obj/$(echo "$1" | tr / _).o" "$1"' sh
rm -f "$out/libpure.a"
ar rcs "$out/libpure.a" "$out"/obj/*.o
for t in $targets; do
	# shellcheck disable=SC2086
	"$cc" $flags -fsanitize=fuzzer -o "$out/fuzz_$t" "tests/fuzz/fuzz_$t.c" "$out/libpure.a" \
		$(pkg-config --libs jansson) -lX11 -lm
done

# One target for secs seconds; its final stats go to the log.
fuzz_one() {
	t=$1
	mkdir -p "$out/corpus/$t"
	set -- "$out/corpus/$t"
	for d in seeds regress; do
		[ -d "tests/fuzz/$d/$t" ] && set -- "$@" "tests/fuzz/$d/$t"
	done
	[ -f "tests/fuzz/$t.dict" ] && set -- -dict="tests/fuzz/$t.dict" "$@"
	if "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1536 \
		-malloc_limit_mb=512 -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
		"$@" >"$out/$t.log" 2>&1; then
		echo ok >"$out/$t.status"
	else
		echo crash >"$out/$t.status"
	fi
}

rm -f "$out"/*.status
for t in $targets; do
	echo "== fuzz_$t for ${secs}s" >&2
	fuzz_one "$t" &
	while [ "$(jobs -p | wc -l)" -ge "$jobs" ]; do
		sleep 1
	done
done
wait

failed=""
printf '%-14s %12s %10s %8s %s\n' target execs exec/s cov result >&2
for t in $targets; do
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -1 | cut -d' ' -f2)
	st=$(cat "$out/$t.status" 2>/dev/null || echo crash)
	printf '%-14s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$st" >&2
	if [ "$st" != ok ]; then
		failed="$failed $t"
		tail -40 "$out/$t.log" >&2
	fi
done
if [ -n "$failed" ]; then
	echo "run.sh: crashes in:$failed (inputs in $out/crash-*, logs in $out/*.log)" >&2
	exit 1
fi
echo "run.sh: no crashes in: $(echo $targets)" >&2
