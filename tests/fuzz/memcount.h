/*
 * memcount.h - the most heap a fuzz target's input made live at once, for
 * the rule that a parser of hostile bytes allocates in proportion to them.
 *
 * Counts through the sanitizers' malloc/free hooks, so it works under
 * libFuzzer (clang, ASan) and in the replayers built with SANITIZE=1 (gcc,
 * ASan); without a sanitizer runtime the hooks are absent and nothing is
 * counted (memcount_peak() stays 0). The counters are file-level statics:
 * the hooks get no context argument. Single-threaded use only.
 */
#ifndef DESKBOX_FUZZ_MEMCOUNT_H
#define DESKBOX_FUZZ_MEMCOUNT_H

#include <stddef.h>

int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void *, size_t),
					      void (*)(const volatile void *)) __attribute__((weak));
size_t __sanitizer_get_allocated_size(const volatile void *) __attribute__((weak));

static int memcount_on, memcount_hooked;
static long long memcount_live, memcount_max;

static void memcount_malloc(const volatile void *p, size_t n)
{
	if (!memcount_on)
		return;
	memcount_live += (long long)n;
	if (memcount_live > memcount_max)
		memcount_max = memcount_live;
}

static void memcount_free(const volatile void *p)
{
	if (memcount_on && p)
		memcount_live -= (long long)__sanitizer_get_allocated_size(p);
}

/* Start counting from zero (installs the hooks the first time). */
static inline void memcount_start(void)
{
	if (!memcount_hooked && __sanitizer_install_malloc_and_free_hooks &&
	    __sanitizer_get_allocated_size) {
		__sanitizer_install_malloc_and_free_hooks(memcount_malloc, memcount_free);
		memcount_hooked = 1;
	}
	memcount_live = memcount_max = 0;
	memcount_on = memcount_hooked;
}

/* Stop counting; the peak of live bytes since memcount_start. */
static inline long long memcount_stop(void)
{
	memcount_on = 0;
	return memcount_max;
}

#endif
