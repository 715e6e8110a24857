/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot as data: which stages run in which profile, in what order, and the walk the fatal
 * path takes over the stages that started. main() owns the PID-1 concerns around it. */
#include <errno.h>
#include <inttypes.h>

#include "edgeinit/log.h"
#include "edgeinit/stage.h"

#define VERITY PROFILE_BIT(BOOT_PROFILE_VERITY)
#define EMT PROFILE_BIT(BOOT_PROFILE_EMT)

/* The common head must stay first: the profile is known once cmdline ran. */
const struct boot_step boot_table[] = {
	{ &stage_early_setup, PROFILES_ALL },
	{ &stage_cmdline, PROFILES_ALL },
	{ &stage_modules, PROFILES_ALL },
	{ &stage_devices, VERITY },
	{ &stage_emt_devices, EMT },
	{ &stage_tpm2, PROFILES_ALL },
	{ &stage_emt, EMT },
	{ &stage_luks, VERITY },
	{ &stage_verity, PROFILES_ALL },
	{ &stage_mounts, PROFILES_ALL },
	{ &stage_layout, PROFILES_ALL },
	{ &stage_emt_late, EMT },
	{ &stage_failures, PROFILES_ALL },
	{ &stage_exitrd, PROFILES_ALL },
	{ &stage_leave_initrd, PROFILES_ALL },
	{ &stage_switch_root, PROFILES_ALL },
};
const size_t boot_table_size = ELEMENTSOF(boot_table);

static bool step_runs(const struct boot_step *st, bool known, enum boot_profile p)
{
	return st->profiles == PROFILES_ALL || (known && (st->profiles & PROFILE_BIT(p)));
}

size_t boot_profile_stages(const struct boot_step *table, size_t n, enum boot_profile p,
			   const struct stage **out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++)
		if (step_runs(&table[i], true, p))
			out[k++] = table[i].stage;
	return k;
}

/* A stage of another profile that shares its name with one this profile runs (devices) is the
 * same step to the reader: it is not listed twice. */
static bool name_runs(const struct boot_step *table, size_t n, enum boot_profile p, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (step_runs(&table[i], true, p) && streq(table[i].stage->name, name))
			return true;
	return false;
}

static struct report_stage *report_entry(struct boot_context *ctx, const struct stage *s)
{
	struct report_stage *rs;

	if (ctx->report.n_stages >= REPORT_STAGES_MAX)
		return NULL;
	rs = &ctx->report.stages[ctx->report.n_stages++];
	*rs = (struct report_stage){ .name = s->name, .result = STAGE_NOT_RUN };
	return rs;
}

int boot_run(struct boot_context *ctx, const struct boot_step *table, size_t n,
	     const struct boot_hooks *hooks, const struct stage **failed)
{
	static struct report_stage spare; /* only if the report is full (a bug in the table) */

	for (size_t i = 0; i < n; i++) {
		const struct stage *s = table[i].stage;
		bool known = ctx->opts_parsed;
		enum boot_profile p = ctx->opts.profile;
		struct report_stage *rs;
		uint64_t t0;
		int r;

		if (!step_runs(&table[i], known, p)) {
			if (!known || name_runs(table, n, p, s->name))
				continue;
			rs = report_entry(ctx, s);
			if (rs)
				rs->result = STAGE_SKIPPED;
			log_info("stage %s skipped (not in the %s profile)", s->name, boot_profile_to_string(p));
			continue;
		}
		rs = report_entry(ctx, s);
		if (!rs)
			rs = &spare;
		if (ctx->n_started < ELEMENTSOF(ctx->started))
			ctx->started[ctx->n_started++] = s;
		if (hooks && hooks->before)
			hooks->before(ctx, s);
		t0 = now_monotonic_us();
		r = s->run(ctx);
		rs->duration_us = now_monotonic_us() - t0;
		rs->result = r < 0 ? STAGE_FAILED : r == STAGE_RUN_SKIPPED ? STAGE_SKIPPED : STAGE_OK;
		if (r < 0) {
			*failed = s;
			return r;
		}
		if (hooks && hooks->after)
			hooks->after(ctx, s, r);
	}
	return 0;
}

void boot_discard(struct boot_context *ctx)
{
	while (ctx->n_started > 0) {
		const struct stage *s = ctx->started[--ctx->n_started];

		if (s->discard)
			s->discard(ctx);
	}
}
