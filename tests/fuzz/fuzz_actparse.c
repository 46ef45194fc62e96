/*
 * fuzz_actparse.c - libFuzzer target for the desktop agent's action parser
 * (desktop/actparse.c) and, through it, jget and the key-chord parser.
 *
 * One input is the params of an "actions" call as the agent receives them
 * (JSON). What parses must be within the limits actparse.h promises the
 * executor; a refusal must name its action and say why; and loading plus
 * parsing may hold at most MEM_PER_BYTE bytes of heap per input byte
 * (plus MEM_BASE): 28 bytes of {"action":"key","text":"a"} once reserved
 * 18 KiB of chords.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actparse.h"
#include "memcount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MEM_PER_BYTE 128
#define MEM_BASE (64 * 1024)

static void check_act(const struct act *a)
{
	CHECK(a->kind >= 0 && a->kind < ACT_KIND_COUNT && a->name && a->name[0]);
	CHECK(a->nchords >= 0 && a->nchords <= ACT_MAX_CHORDS);
	CHECK(!a->nchords || a->chords);
	for (int i = 0; i < a->nchords; i++)
		CHECK(a->chords[i].n >= 1 && a->chords[i].n <= KEYS_MAX_CHORD);
	CHECK(a->mods.n >= 0 && a->mods.n <= KEYS_MAX_CHORD);
	switch (a->kind) {
	case ACT_CLICK:
		CHECK(a->clicks >= 1 && a->clicks <= 3);
		break;
	case ACT_DRAG:
		CHECK(a->npath >= 2 && a->npath <= ACT_MAX_PATH && a->path);
		break;
	case ACT_KEY:
		CHECK(a->nchords >= 1 && a->repeat >= 1 && a->repeat <= ACT_MAX_REPEAT);
		break;
	case ACT_HOLD:
		CHECK(a->nchords == 1 && a->duration_ms >= 0 && a->duration_ms <= ACT_MAX_WAIT_MS);
		break;
	case ACT_WAIT:
		CHECK(a->duration_ms >= 0 && a->duration_ms <= ACT_MAX_WAIT_MS);
		break;
	case ACT_TYPE:
		CHECK(a->text && strlen(a->text) == a->text_len);
		CHECK(a->delay_ms >= 0 && a->delay_ms <= ACT_MAX_DELAY_MS);
		break;
	case ACT_SCROLL:
		CHECK(labs((long)a->scroll_x) <= ACT_MAX_SCROLL && labs((long)a->scroll_y) <= ACT_MAX_SCROLL);
		break;
	case ACT_BUTTON:
		CHECK(a->down == 0 || a->down == 1);
		break;
	default:
		break;
	}
	if (a->kind == ACT_CLICK || a->kind == ACT_BUTTON || a->kind == ACT_DRAG)
		CHECK(a->button >= 1 && a->button <= 9);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct act_list l;
	struct act_error e;
	json_t *j;
	long long peak;

	memcount_start();
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (!j) {
		memcount_stop();
		return 0;
	}
	e.index = -2;
	e.msg[0] = '\0';
	if (actparse(j, &l, &e) == 0) {
		int images = 0;

		peak = memcount_stop();
		CHECK(l.n >= 1 && l.n <= ACT_MAX_ACTIONS && l.v);
		CHECK(l.quality >= 1 && l.quality <= 100);
		CHECK(l.format == SHOT_PNG || l.format == SHOT_JPEG);
		CHECK(l.scale_w >= 0 && l.scale_h >= 0);
		for (int i = 0; i < l.n; i++) {
			check_act(&l.v[i]);
			images += l.v[i].kind == ACT_SCREENSHOT || l.v[i].kind == ACT_ZOOM ||
				  l.v[i].kind == ACT_WAIT;
		}
		CHECK(images <= ACT_MAX_IMAGES);
		actparse_free(&l);
	} else {
		peak = memcount_stop();
		CHECK(e.msg[0] && e.index >= -1 && e.index < ACT_MAX_ACTIONS);
		CHECK(!l.v && !l.n);
	}
	CHECK(peak <= (long long)(MEM_PER_BYTE * size + MEM_BASE));
	json_decref(j);
	return 0;
}
