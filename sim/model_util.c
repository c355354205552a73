/*
 * Small pieces every part of the model uses: allocation that does not fail, the
 * random streams, error answers, bounded string copies, AWS timestamps.
 *
 * Randomness is splitmix64, one stream per purpose, so that turning traffic on or
 * off does not change the instance ids a scenario produces: a test that names an
 * instance keeps working when the traffic model changes.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/model_int.h"

void *
sim_xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		err(1, "bbsim model");
	return p;
}

void *
sim_xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		errx(1, "bbsim model: allocation overflow");
	if ((p = realloc(p, n * size > 0 ? n * size : 1)) == NULL)
		err(1, "bbsim model");
	return p;
}

void
sim_grow(void *arrp, size_t *cap, size_t need, size_t size)
{
	void **arr = arrp;
	size_t ncap = *cap ? *cap : 8;

	if (need <= *cap)
		return;
	while (ncap < need)
		ncap *= 2;
	*arr = sim_xreallocarray(*arr, ncap, size);
	memset((char *)*arr + *cap * size, 0, (ncap - *cap) * size);
	*cap = ncap;
}

void
sim_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n;

	if (len == 0)
		return;
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
sim_fail(struct sim_err *e, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->status = status;
	sim_strlcpy(e->code, code, sizeof(e->code));
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- random streams ---- */

void
sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	r->s = seed ^ (stream * 0xd1342543de82ef95ULL);
	(void)sim_rng_next(r);
}

uint64_t
sim_rng_next(struct sim_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Lemire's method would be faster; rejection keeps it obviously unbiased. */
uint64_t
sim_rng_below(struct sim_rng *r, uint64_t n)
{
	uint64_t x, lim;

	if (n <= 1)
		return 0;
	lim = UINT64_MAX - UINT64_MAX % n;
	do
		x = sim_rng_next(r);
	while (x >= lim);
	return x % n;
}

double
sim_rng_unit(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

void
sim_rng_hex(struct sim_rng *r, char *buf, size_t ndigits)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < ndigits; i++)
		buf[i] = hex[sim_rng_below(r, 16)];
	buf[ndigits] = '\0';
}

void
sim_rng_alnum(struct sim_rng *r, char *buf, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	for (size_t i = 0; i < n; i++)
		buf[i] = set[sim_rng_below(r, sizeof(set) - 1)];
	buf[n] = '\0';
}

void
sim_rng_uuid(struct sim_rng *r, char *buf, size_t len)
{
	char h[33];

	sim_rng_hex(r, h, 32);
	snprintf(buf, len, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* ---- time ---- */

char *
sim_time_format(const struct sim_model *m, int64_t t, int with_ms, char *buf, size_t len)
{
	int64_t ms = m->p.epoch * 1000 + t;
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(buf, len, "%s.%03dZ", base, (int)(ms - (int64_t)secs * 1000));
	else
		snprintf(buf, len, "%sZ", base);
	return buf;
}

int
sim_fault_fires(struct sim_model *m, enum sim_fault f, double p, int bit)
{
	switch (f) {
	case SIM_FAULT_NEVER:
		return 0;
	case SIM_FAULT_ONCE:
		if (m->faults_used & bit)
			return 0;
		m->faults_used |= bit;
		return 1;
	case SIM_FAULT_ALWAYS:
		return 1;
	case SIM_FAULT_RANDOM:
		return sim_rng_unit(&m->rng_faults) < p;
	}
	return 0;
}
