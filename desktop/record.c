/*
 * record.c - screen recordings (see record.h).
 *
 * Owns the recordings directory, the running recording (its frame queue,
 * encoder thread, output file) and the stop requests waiting for it to
 * finish. The loop thread grabs frames into free queue slots and never
 * waits for the encoder: the queue's mutex is held only to move a slot
 * between the two sides; the encoder thread runs at a lower priority
 * than the loop. The encoder thread owns the libav objects from
 * start to finish and touches nothing else of the agent; it says it is
 * done through an eventfd the loop polls, and the loop joins it then.
 *
 * Timestamps are slots of 1/fps from t0, the recording's start on the
 * monotonic clock (deskboxd uses the same clock to place its action log
 * on the video); a frame takes the first slot at or after its grab. A
 * frame is grabbed when the screen changed since the last one and its
 * slot is later than the last frame's; with nothing
 * changing there is no frame, and at stop the last frame is repeated at
 * the stop's slot, so the video lasts as long as the recording did.
 */
#include "record.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/macros.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "jget.h"
#include "log.h"
#include "proto.h"
#include "spawn.h"

#define RECORD_SLOTS 3
#define RECORD_ID_MAX AGENTPROTO_MAX_RECORD_ID

/* The libav functions record.c calls, looked up when the first recording
 * starts: linking them would load ~110 more libraries into every agent
 * and add ~65 ms to every desktop's start, recording or not. */
#define AV_FUNCS(X) \
	X(codec, avcodec_find_encoder_by_name) \
	X(codec, avcodec_alloc_context3) \
	X(codec, avcodec_open2) \
	X(codec, avcodec_parameters_from_context) \
	X(codec, avcodec_send_frame) \
	X(codec, avcodec_receive_packet) \
	X(codec, avcodec_free_context) \
	X(codec, av_packet_alloc) \
	X(codec, av_packet_free) \
	X(codec, av_packet_rescale_ts) \
	X(format, avformat_alloc_output_context2) \
	X(format, avformat_new_stream) \
	X(format, avformat_write_header) \
	X(format, av_interleaved_write_frame) \
	X(format, av_write_trailer) \
	X(format, avformat_free_context) \
	X(format, avio_open) \
	X(format, avio_closep) \
	X(format, avio_size) \
	X(format, avio_seek) \
	X(util, av_frame_alloc) \
	X(util, av_frame_free) \
	X(util, av_frame_get_buffer) \
	X(util, av_frame_make_writable) \
	X(util, av_dict_set) \
	X(util, av_dict_free) \
	X(util, av_strerror) \
	X(util, av_log_set_level) \
	X(sws, sws_getCachedContext) \
	X(sws, sws_scale) \
	X(sws, sws_freeContext)

struct av {
	void *lib[4];
#define AV_MEMBER(lib, name) __typeof__(name) *name;
	AV_FUNCS(AV_MEMBER)
#undef AV_MEMBER
};

enum { AV_codec, AV_format, AV_util, AV_sws };

#define AV_SONAME(lib, major) lib ".so." AV_STRINGIFY(major)
static const char *const av_sonames[] = {
	AV_SONAME("libavcodec", LIBAVCODEC_VERSION_MAJOR),
	AV_SONAME("libavformat", LIBAVFORMAT_VERSION_MAJOR),
	AV_SONAME("libavutil", LIBAVUTIL_VERSION_MAJOR),
	AV_SONAME("libswscale", LIBSWSCALE_VERSION_MAJOR),
};

/* Load libav (the versions the headers name). NULL with err. */
static struct av *av_load(char *err, size_t errlen)
{
	struct av *av = calloc(1, sizeof *av);

	if (!av) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < 4; i++)
		if (!(av->lib[i] = dlopen(av_sonames[i], RTLD_NOW | RTLD_LOCAL))) {
			snprintf(err, errlen, "cannot load %s (recordings need it): %s", av_sonames[i], dlerror());
			goto fail;
		}
#define AV_LOAD(l, name) \
	if (!(av->name = (__typeof__(name) *)dlsym(av->lib[AV_##l], #name))) { \
		snprintf(err, errlen, "%s has no %s", av_sonames[AV_##l], #name); \
		goto fail; \
	}
	AV_FUNCS(AV_LOAD)
#undef AV_LOAD
	/* libx264's banner and statistics are not deskboxd's log's business. */
	av->av_log_set_level(AV_LOG_ERROR);
	return av;
fail:
	for (int i = 0; i < 4; i++)
		if (av->lib[i])
			dlclose(av->lib[i]);
	free(av);
	return NULL;
}

struct slot {
	uint8_t *pix;          /* BGRX */
	size_t cap;            /* bytes allocated */
	int w, h;
	int64_t pts;
};

/* Calls into libav go through the loaded table of the recording at hand. */
#define AV (rc->av)

struct rec {
	const struct av *av;
	char id[RECORD_ID_MAX + 1];
	char path[512], part[512];
	int fps, crf, w, h;
	const char *preset;
	int64_t t0_us, max_end_us;

	/* Loop thread. */
	int64_t last_pts;                   /* last frame queued, -1: none */
	int64_t not_before;                 /* a dropped frame: retry from then */
	uint64_t seen_damage, seen_moves;
	unsigned long seen_cursor;
	int stopping;
	int64_t stop_us;
	json_t *waiting;                    /* ids of record.stop requests */
	int efd;                            /* the encoder says it is done */
	pthread_t th;
	int th_started;

	/* Shared, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot slots[RECORD_SLOTS];
	int busy[RECORD_SLOTS];             /* queued or being encoded */
	int order[RECORD_SLOTS], head, count;   /* FIFO of queued slot indices */
	int quit;                           /* no more frames after the queue */
	int64_t end_pts;

	/* The encoder thread's, read by the loop after the join (or atomics). */
	AVFormatContext *fmt;
	AVCodecContext *enc;
	AVStream *st;
	struct SwsContext *sws;
	AVFrame *yuv;
	AVPacket *pkt;
	int64_t enc_last_pts;
	int failed;
	char err[256];
	_Atomic uint64_t bytes, frames, dropped;
};

struct record {
	struct agent *a;
	char dir[400];
	struct av *av;                      /* loaded by the first start, or NULL */
	struct rec *cur;                    /* running or finishing, or NULL */
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct record *record_create(struct agent *a)
{
	struct record *r = calloc(1, sizeof *r);
	const char *base = getenv("XDG_RUNTIME_DIR");

	if (!r)
		return NULL;
	r->a = a;
	/* On a uid of its own the user's runtime dir is not ours to write. */
	if (spawn_own_uid())
		base = PROTO_AGENT_DIR;
	if (!base || base[0] != '/' || strlen(base) > 300)
		base = "/tmp";
	snprintf(r->dir, sizeof r->dir, "%s/deskbox-recordings", base);
	return r;
}

/* ids come from deskboxd, which made them; checked again all the same:
 * an id is a file name here. */
static int id_get(const json_t *params, char *out, char *err, size_t errlen)
{
	const char *id;
	size_t len;

	if (!json_is_object(params) || jget_string(params, "id", 1, &id, &len, err, errlen) < 0)
		return snprintf(err, errlen, "params must be {id, ...}"), -1;
	if (len == 0 || len > RECORD_ID_MAX ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		snprintf(err, errlen, "id must be 1-%d of [a-z0-9_]", RECORD_ID_MAX);
		return -1;
	}
	memcpy(out, id, len + 1);
	return 0;
}

/* --- the encoder thread --- */

static void enc_fail(struct rec *rc, const char *what, int averr)
{
	char msg[AV_ERROR_MAX_STRING_SIZE] = "";

	if (rc->failed)
		return;
	AV->av_strerror(averr, msg, sizeof msg);
	snprintf(rc->err, sizeof rc->err, "%s: %s", what, msg);
	rc->failed = 1;
}

/* Send frame (NULL: flush) and write what comes out. */
static void enc_send(struct rec *rc, AVFrame *frame)
{
	int e = AV->avcodec_send_frame(rc->enc, frame);

	if (e < 0)
		return enc_fail(rc, "encode", e);
	for (;;) {
		e = AV->avcodec_receive_packet(rc->enc, rc->pkt);
		if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
			return;
		if (e < 0)
			return enc_fail(rc, "encode", e);
		rc->pkt->duration = 1;
		AV->av_packet_rescale_ts(rc->pkt, rc->enc->time_base, rc->st->time_base);
		rc->pkt->stream_index = rc->st->index;
		e = AV->av_interleaved_write_frame(rc->fmt, rc->pkt);
		if (e < 0)
			return enc_fail(rc, "write", e);
		atomic_store(&rc->bytes, (uint64_t)AV->avio_seek(rc->fmt->pb, 0, SEEK_CUR));
	}
}

/* Convert a grabbed frame (any screen size: scaled to the video's). */
static void enc_frame(struct rec *rc, const struct slot *s)
{
	const uint8_t *src[1] = {s->pix};
	int stride[1] = {s->w * 4}, e;

	rc->sws = AV->sws_getCachedContext(rc->sws, s->w, s->h, AV_PIX_FMT_BGR0, rc->w, rc->h,
				       AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
	if (!rc->sws)
		return enc_fail(rc, "scale", AVERROR(ENOMEM));
	e = AV->av_frame_make_writable(rc->yuv);
	if (e < 0)
		return enc_fail(rc, "frame", e);
	AV->sws_scale(rc->sws, src, stride, 0, s->h, rc->yuv->data, rc->yuv->linesize);
	rc->yuv->pts = s->pts;
	enc_send(rc, rc->yuv);
	rc->enc_last_pts = s->pts;
	atomic_fetch_add(&rc->frames, 1);
}

static void *enc_main(void *arg)
{
	struct rec *rc = arg;
	uint64_t one = 1;
	int e, told = 0;

	/* Behind the loop for the CPU (nice 10, this thread only): when the
	 * two compete, screenshots and input win and the queue fills and
	 * drops frames instead. Failing that, it runs at the loop's. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), 10) < 0) {
		/* nothing to do */
	}

	for (;;) {
		int i;

		pthread_mutex_lock(&rc->mu);
		while (!rc->count && !rc->quit)
			pthread_cond_wait(&rc->cv, &rc->mu);
		if (!rc->count) {
			pthread_mutex_unlock(&rc->mu);
			break;
		}
		i = rc->order[rc->head];
		rc->head = (rc->head + 1) % RECORD_SLOTS;
		rc->count--;
		pthread_mutex_unlock(&rc->mu);
		if (!rc->failed)
			enc_frame(rc, &rc->slots[i]);
		/* A failure (a full disk) ends the recording now, not at
		 * the stop: the loop reads this and stops it. */
		if (rc->failed && !told && write(rc->efd, &one, sizeof one) == sizeof one)
			told = 1;
		pthread_mutex_lock(&rc->mu);
		rc->busy[i] = 0;
		pthread_mutex_unlock(&rc->mu);
	}
	/* The last picture again at the stop's slot: the video lasts until
	 * the stop even when the screen was still at the end. */
	if (!rc->failed && rc->enc_last_pts >= 0 && rc->end_pts > rc->enc_last_pts) {
		e = AV->av_frame_make_writable(rc->yuv);
		if (e < 0) {
			enc_fail(rc, "frame", e);
		} else {
			rc->yuv->pts = rc->end_pts;
			enc_send(rc, rc->yuv);
			atomic_fetch_add(&rc->frames, 1);
		}
	}
	if (!rc->failed)
		enc_send(rc, NULL);
	/* The trailer moves the index to the front (faststart): the file
	 * plays while it downloads. */
	if (!rc->failed && (e = AV->av_write_trailer(rc->fmt)) < 0)
		enc_fail(rc, "finish", e);
	if (rc->fmt->pb)
		atomic_store(&rc->bytes, (uint64_t)AV->avio_size(rc->fmt->pb));
	e = AV->avio_closep(&rc->fmt->pb);
	if (e < 0)
		enc_fail(rc, "close", e);
	if (!rc->failed && rename(rc->part, rc->path) < 0) {
		snprintf(rc->err, sizeof rc->err, "rename: %s", strerror(errno));
		rc->failed = 1;
	}
	if (rc->failed)
		unlink(rc->part);
	if (write(rc->efd, &one, sizeof one) < 0) {
		/* an eventfd write of 1 does not fail */
	}
	return NULL;
}

/* --- the loop side --- */

static void rec_free(struct rec *rc)
{
	if (!rc)
		return;
	if (rc->th_started)
		pthread_join(rc->th, NULL);
	AV->sws_freeContext(rc->sws);
	AV->av_frame_free(&rc->yuv);
	AV->av_packet_free(&rc->pkt);
	AV->avcodec_free_context(&rc->enc);
	if (rc->fmt) {
		if (rc->fmt->pb)
			AV->avio_closep(&rc->fmt->pb);
		AV->avformat_free_context(rc->fmt);
	}
	for (int i = 0; i < RECORD_SLOTS; i++)
		free(rc->slots[i].pix);
	if (rc->efd >= 0)
		close(rc->efd);
	json_decref(rc->waiting);
	pthread_mutex_destroy(&rc->mu);
	pthread_cond_destroy(&rc->cv);
	free(rc);
}

/* Tell the thread to finish after what is queued, the last frame held
 * until end_pts. */
static void rec_quit(struct rec *rc, int64_t end_pts)
{
	pthread_mutex_lock(&rc->mu);
	rc->quit = 1;
	rc->end_pts = end_pts;
	pthread_cond_signal(&rc->cv);
	pthread_mutex_unlock(&rc->mu);
}

void record_destroy(struct record *r)
{
	if (!r)
		return;
	if (r->cur) {
		struct rec *rc = r->cur;

		/* The encoder finalizes what it has: after a desktop restart
		 * the file is still there to download. */
		if (!rc->stopping) {
			rc->stopping = 1;
			display_watch_pointer(r->a->disp, 0);
			rec_quit(rc, -1);
		}
		rec_free(rc);   /* joins */
		r->cur = NULL;
	}
	if (r->av)
		for (int i = 0; i < 4; i++)
			dlclose(r->av->lib[i]);
	free(r->av);
	free(r);
}

static const struct {
	const char *name;
	int crf;
	const char *preset;
} qualities[] = {
	{"low", 34, "ultrafast"},
	{"medium", 28, "superfast"},
	{"high", 22, "veryfast"},
};

/* The encoder and the output file, on the loop (so their errors are the
 * start request's), before the thread takes them over. */
static int rec_open(struct rec *rc, char *err, size_t errlen)
{
	const AVCodec *codec = AV->avcodec_find_encoder_by_name("libx264");
	AVDictionary *opts = NULL;
	char crf[16];
	int e;

	if (!codec) {
		snprintf(err, errlen, "this libavcodec has no libx264 encoder");
		return -1;
	}
	e = AV->avformat_alloc_output_context2(&rc->fmt, NULL, "mp4", rc->part);
	if (e < 0 || !rc->fmt)
		goto averr;
	rc->enc = AV->avcodec_alloc_context3(codec);
	rc->yuv = AV->av_frame_alloc();
	rc->pkt = AV->av_packet_alloc();
	rc->st = AV->avformat_new_stream(rc->fmt, NULL);
	if (!rc->enc || !rc->yuv || !rc->pkt || !rc->st) {
		e = AVERROR(ENOMEM);
		goto averr;
	}
	rc->enc->width = rc->w;
	rc->enc->height = rc->h;
	rc->enc->pix_fmt = AV_PIX_FMT_YUV420P;
	rc->enc->time_base = (AVRational){1, rc->fps};
	rc->enc->framerate = (AVRational){rc->fps, 1};
	/* A key frame every 2 s of frames: seeks land close. */
	rc->enc->gop_size = 2 * rc->fps;
	rc->enc->max_b_frames = 0;
	/* One thread: the sandbox's CPU limit is the budget, and one core's
	 * worth of encoding must not starve the apps being recorded. */
	rc->enc->thread_count = 1;
	rc->enc->color_range = AVCOL_RANGE_MPEG;
	rc->enc->colorspace = AVCOL_SPC_SMPTE170M;
	rc->enc->color_primaries = AVCOL_PRI_SMPTE170M;
	rc->enc->color_trc = AVCOL_TRC_SMPTE170M;
	if (rc->fmt->oformat->flags & AVFMT_GLOBALHEADER)
		rc->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	snprintf(crf, sizeof crf, "%d", rc->crf);
	AV->av_dict_set(&opts, "preset", rc->preset, 0);
	/* No lookahead: a frame is encoded as it comes, nothing piles up. */
	AV->av_dict_set(&opts, "tune", "zerolatency", 0);
	AV->av_dict_set(&opts, "crf", crf, 0);
	e = AV->avcodec_open2(rc->enc, codec, &opts);
	AV->av_dict_free(&opts);
	if (e < 0)
		goto averr;
	e = AV->avcodec_parameters_from_context(rc->st->codecpar, rc->enc);
	if (e < 0)
		goto averr;
	rc->st->time_base = rc->enc->time_base;
	rc->yuv->format = AV_PIX_FMT_YUV420P;
	rc->yuv->width = rc->w;
	rc->yuv->height = rc->h;
	e = AV->av_frame_get_buffer(rc->yuv, 0);
	if (e < 0)
		goto averr;
	e = AV->avio_open(&rc->fmt->pb, rc->part, AVIO_FLAG_WRITE);
	if (e < 0)
		goto averr;
	AV->av_dict_set(&opts, "movflags", "+faststart", 0);
	e = AV->avformat_write_header(rc->fmt, &opts);
	AV->av_dict_free(&opts);
	if (e < 0)
		goto averr;
	return 0;
averr:
	{
		char msg[AV_ERROR_MAX_STRING_SIZE] = "out of memory";

		if (e < 0)
			AV->av_strerror(e, msg, sizeof msg);
		snprintf(err, errlen, "cannot start the encoder: %s", msg);
	}
	return -1;
}

json_t *record_start(struct record *r, const json_t *params, const char **code,
		     char *err, size_t errlen)
{
	struct display *d = r->a->disp;
	struct rec *rc = NULL;
	const char *q = "medium";
	long fps, maxd;
	size_t i;

	*code = "bad_request";
	rc = calloc(1, sizeof *rc);
	if (!rc) {
		*code = "internal";
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc->efd = -1;
	pthread_mutex_init(&rc->mu, NULL);
	pthread_cond_init(&rc->cv, NULL);
	if (id_get(params, rc->id, err, errlen) < 0 ||
	    jget_int(params, "fps", 1, 60, 10, &fps, err, errlen) < 0 ||
	    jget_int(params, "max_duration_s", 1, 24 * 3600, 600, &maxd, err, errlen) < 0 ||
	    jget_string(params, "quality", 0, &q, &i, err, errlen) < 0)
		goto fail;
	if (!q)
		q = "medium";
	for (i = 0; i < sizeof qualities / sizeof *qualities; i++)
		if (!strcmp(qualities[i].name, q))
			break;
	if (i == sizeof qualities / sizeof *qualities) {
		snprintf(err, errlen, "quality must be low, medium or high");
		goto fail;
	}
	if (r->cur) {
		*code = "busy";
		snprintf(err, errlen, "recording %s is running", r->cur->id);
		goto fail;
	}
	*code = "internal";
	if (!r->av && !(r->av = av_load(err, errlen)))
		goto fail;
	rc->av = r->av;
	rc->crf = qualities[i].crf;
	rc->preset = qualities[i].preset;
	rc->fps = (int)fps;
	/* yuv420p needs even sides. */
	rc->w = d->width & ~1;
	rc->h = d->height & ~1;
	if (rc->w < 2 || rc->h < 2) {
		snprintf(err, errlen, "the screen is too small to record");
		goto fail;
	}
	rc->last_pts = -1;
	rc->enc_last_pts = -1;
	rc->waiting = json_array();
	/* The user's group may read the recordings, not change them. */
	if (mkdir(r->dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", r->dir, strerror(errno));
		goto fail;
	}
	snprintf(rc->path, sizeof rc->path, "%s/%s.mp4", r->dir, rc->id);
	snprintf(rc->part, sizeof rc->part, "%s/%s.mp4.part", r->dir, rc->id);
	rc->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rc->efd < 0 || !rc->waiting) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (rec_open(rc, err, errlen) < 0) {
		unlink(rc->part);
		goto fail;
	}
	if (pthread_create(&rc->th, NULL, enc_main, rc) != 0) {
		snprintf(err, errlen, "cannot start the encoder thread");
		unlink(rc->part);
		goto fail;
	}
	rc->th_started = 1;
	rc->t0_us = now_us();
	rc->max_end_us = rc->t0_us + (int64_t)maxd * 1000000;
	/* The first frame comes at once, whatever changed or not. */
	rc->seen_damage = d->damage - 1;
	display_watch_pointer(d, 1);
	r->cur = rc;
	agent_log("recording %s: %dx%d at %d fps, quality %s", rc->id, rc->w, rc->h, rc->fps, q);
	record_run(r);
	return json_pack("{sIsisi}", "t0_us", (json_int_t)rc->t0_us, "width", rc->w,
			 "height", rc->h);
fail:
	rec_free(rc);
	return NULL;
}

/* The slot a frame grabbed at t shows in: the first that starts at or
 * after t, so no frame is shown before it existed (seeking to a call's
 * offset shows the screen as the call found it). */
static int64_t slot_of(const struct rec *rc, int64_t t)
{
	return ((t - rc->t0_us) * rc->fps + 999999) / 1000000;
}

static void begin_stop(struct record *r)
{
	struct rec *rc = r->cur;

	if (rc->stopping)
		return;
	rc->stopping = 1;
	rc->stop_us = now_us();
	if (rc->stop_us > rc->max_end_us)
		rc->stop_us = rc->max_end_us;
	display_watch_pointer(r->a->disp, 0);
	rec_quit(rc, slot_of(rc, rc->stop_us));
}

int record_stop(struct record *r, json_t *id, const json_t *params, const char **code,
		char *err, size_t errlen)
{
	char rid[RECORD_ID_MAX + 1];

	*code = "bad_request";
	if (id_get(params, rid, err, errlen) < 0)
		return -1;
	if (!r->cur || strcmp(r->cur->id, rid)) {
		*code = "not_found";
		snprintf(err, errlen, "recording %s is not running", rid);
		return -1;
	}
	if (json_array_append(r->cur->waiting, id ? id : json_null()) < 0) {
		*code = "internal";
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	begin_stop(r);
	return 0;
}

static json_t *rec_stats(const struct rec *rc, int64_t end_us)
{
	return json_pack("{sssIsIsIsI}", "state", rc->stopping ? "stopping" : "recording",
			 "bytes", (json_int_t)atomic_load(&rc->bytes),
			 "frames", (json_int_t)atomic_load(&rc->frames),
			 "dropped", (json_int_t)atomic_load(&rc->dropped),
			 "duration_ms", (json_int_t)((end_us - rc->t0_us) / 1000));
}

json_t *record_status(struct record *r, const json_t *params, const char **code,
		      char *err, size_t errlen)
{
	char rid[RECORD_ID_MAX + 1];

	*code = "bad_request";
	if (id_get(params, rid, err, errlen) < 0)
		return NULL;
	if (!r->cur || strcmp(r->cur->id, rid)) {
		*code = "not_found";
		snprintf(err, errlen, "recording %s is not running", rid);
		return NULL;
	}
	return rec_stats(r->cur, r->cur->stopping ? r->cur->stop_us : now_us());
}

json_t *record_open(struct record *r, const json_t *params, int *fd, const char **code,
		    char *err, size_t errlen)
{
	char rid[RECORD_ID_MAX + 1], path[512];
	struct stat st;

	*fd = -1;
	*code = "bad_request";
	if (id_get(params, rid, err, errlen) < 0)
		return NULL;
	*code = "not_found";
	if (r->cur && !strcmp(r->cur->id, rid)) {
		snprintf(err, errlen, "recording %s is still being written", rid);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/%s.mp4", r->dir, rid);
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (*fd < 0 || fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "recording %s has no file (%s)", rid,
			 *fd < 0 ? strerror(errno) : "not a regular file");
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return NULL;
	}
	return json_pack("{sI}", "size", (json_int_t)st.st_size);
}

json_t *record_delete(struct record *r, const json_t *params, const char **code,
		      char *err, size_t errlen)
{
	char rid[RECORD_ID_MAX + 1], path[512];

	*code = "bad_request";
	if (id_get(params, rid, err, errlen) < 0)
		return NULL;
	if (r->cur && !strcmp(r->cur->id, rid)) {
		*code = "busy";
		snprintf(err, errlen, "recording %s is running: stop it first", rid);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/%s.mp4", r->dir, rid);
	unlink(path);
	snprintf(path, sizeof path, "%s/%s.mp4.part", r->dir, rid);
	unlink(path);
	return json_pack("{sb}", "ok", 1);
}

/* Grab the screen into a free slot as frame pts. 0, or -1 when the
 * queue is full (the frame is dropped) or the grab failed. */
static int grab(struct record *r, struct rec *rc, int64_t pts)
{
	struct display *d = r->a->disp;
	struct slot *s = NULL;
	size_t stride, need = (size_t)d->width * (size_t)d->height * 4;
	uint8_t *pix;
	char err[160];
	int i;

	pthread_mutex_lock(&rc->mu);
	for (i = 0; i < RECORD_SLOTS && rc->busy[i]; i++)
		;
	pthread_mutex_unlock(&rc->mu);
	if (i == RECORD_SLOTS) {
		atomic_fetch_add(&rc->dropped, 1);
		return -1;
	}
	s = &rc->slots[i];
	if (s->cap < need) {
		uint8_t *n = realloc(s->pix, need);

		if (!n)
			return -1;
		s->pix = n;
		s->cap = need;
	}
	if (capture_grab(r->a->cap, 0, 0, d->width, d->height, &pix, &stride, err, sizeof err) < 0)
		return -1;
	capture_draw_cursor(r->a->cap, pix, stride, 0, 0, d->width, d->height);
	for (int y = 0; y < d->height; y++)
		memcpy(s->pix + (size_t)y * (size_t)d->width * 4, pix + (size_t)y * stride,
		       (size_t)d->width * 4);
	s->w = d->width;
	s->h = d->height;
	s->pts = pts;
	rc->last_pts = pts;
	pthread_mutex_lock(&rc->mu);
	rc->busy[i] = 1;
	rc->order[(rc->head + rc->count) % RECORD_SLOTS] = i;
	rc->count++;
	pthread_cond_signal(&rc->cv);
	pthread_mutex_unlock(&rc->mu);
	return 0;
}

/* The encoder is done: answer the stop requests, or tell deskboxd the
 * recording ended on its own (max_duration_s, a write error). */
static void finish(struct record *r)
{
	struct rec *rc = r->cur;
	json_t *stats, *id;
	size_t i;

	r->cur = NULL;
	pthread_join(rc->th, NULL);
	rc->th_started = 0;
	stats = rec_stats(rc, rc->stop_us);
	json_object_set_new(stats, "state", json_string(rc->failed ? "failed" : "stopped"));
	if (rc->failed)
		json_object_set_new(stats, "error", json_string(rc->err));
	agent_log("recording %s %s: %llu bytes, %llu frames, %llu dropped%s%s", rc->id,
		  rc->failed ? "failed" : "done", (unsigned long long)atomic_load(&rc->bytes),
		  (unsigned long long)atomic_load(&rc->frames),
		  (unsigned long long)atomic_load(&rc->dropped), rc->failed ? ": " : "", rc->err);
	json_array_foreach(rc->waiting, i, id)
		chan_reply(&r->a->chan, id, json_deep_copy(stats), -1);
	json_object_set_new(stats, "id", json_string(rc->id));
	chan_event(&r->a->chan, AGENT_E_RECORD_ENDED, stats);
	rec_free(rc);
}

void record_run(struct record *r)
{
	struct rec *rc = r->cur;
	struct display *d = r->a->disp;
	uint64_t n;
	int64_t t, slot;

	if (!rc)
		return;
	if (rc->stopping) {
		if (read(rc->efd, &n, sizeof n) == sizeof n)
			finish(r);
		return;
	}
	if (read(rc->efd, &n, sizeof n) == sizeof n) {
		agent_log("recording %s: the encoder failed: stopping", rc->id);
		begin_stop(r);
		return;
	}
	t = now_us();
	if (t >= rc->max_end_us) {
		agent_log("recording %s: max_duration_s reached", rc->id);
		begin_stop(r);
		return;
	}
	if (rc->seen_damage == d->damage && rc->seen_moves == d->pointer_moves &&
	    rc->seen_cursor == d->cursor_serial)
		return;
	/* The first frame is the video's start, whenever it was grabbed. */
	slot = rc->last_pts < 0 ? 0 : slot_of(rc, t);
	if (slot <= rc->last_pts || t < rc->not_before)
		return;   /* record_timeout_ms wakes us at the next slot */
	if (grab(r, rc, slot) < 0) {
		/* The change is still to be recorded: try again at the next
		 * slot, by when the encoder may have caught up. */
		rc->not_before = rc->t0_us + slot * 1000000 / rc->fps + 1;
		return;
	}
	rc->seen_damage = d->damage;
	rc->seen_moves = d->pointer_moves;
	rc->seen_cursor = d->cursor_serial;
}

int record_timeout_ms(const struct record *r)
{
	const struct rec *rc = r->cur;
	const struct display *d = r->a->disp;
	int64_t t, due;

	if (!rc || rc->stopping)
		return -1;
	t = now_us();
	due = rc->max_end_us;
	if (rc->seen_damage != d->damage || rc->seen_moves != d->pointer_moves ||
	    rc->seen_cursor != d->cursor_serial) {
		/* The first t whose slot is past the last frame's. */
		int64_t next = rc->t0_us + rc->last_pts * 1000000 / rc->fps + 1;

		if (next < rc->not_before)
			next = rc->not_before;
		if (next < due)
			due = next;
	}
	if (due <= t)
		return 0;
	return (int)((due - t + 999) / 1000);
}

int record_pollfd(const struct record *r)
{
	return r->cur ? r->cur->efd : -1;
}
