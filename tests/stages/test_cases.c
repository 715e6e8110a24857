/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage tests as data: one directory per case under tests/stages/cases/ (see README.md, Tests).
 *
 *   cmdline   the kernel command line, written to <root>/proc/cmdline (and parsed into the
 *             context when the case does not run the cmdline stage itself)
 *   root/     copied into the temporary root before the run
 *   setup     what a tree in git cannot hold, one directive a line: mkdir P, symlink TARGET P,
 *             fifo P, probe NODE PARTLABEL TYPE UUID ("-": none) [PARTUUID=X] [LABEL=X] (TYPE
 *             crypto_LUKS: also LUKS2 to the unlock's fakes, under UUID), verity DATA HASH
 *             (a 1 MiB data device and its hash device, fixed salt and UUID, so the root hash is
 *             fixed too), efivar NAME ATTR TEXT (/sys/firmware/efi/efivars/NAME as the firmware
 *             holds it: ATTR's 4 bytes little-endian, then TEXT in UTF-16LE with its NUL, as
 *             systemd-boot writes LoaderDevicePartUUID), tpm absent,
 *             active-roothash HEX, ctx FIELD [VALUE] (root_node, persist_node, verity_data_node,
 *             verity_hash_node, persist_plain, tpm_present, uevent: open the fake uevent
 *             socket), uevent ACTION SUBSYSTEM KEY=VALUE... (queued on that socket; DEVPATH=
 *             is required)
 *             ctx roothash HEX (the root plan's hash, as from the command line), ctx
 *             roothash_source SOURCE (where it came from instead); the unlock's fakes: tpm unseal
 *             SECRET|-EXXX (what the TPM releases), tpm sealed-key (EMT's handle holds an object),
 *             luks UUID [REASON] (every node is LUKS2; with a REASON its header fails the
 *             allow-list), luks-refused NODE REASON (NODE's header only fails it), passphrase TEXT
 *             (what opens it), passphrase-fails NODE (but not NODE's volume), token N
 *             FILE (LUKS2 token N is FILE's JSON, FILE from the source tree), answer TEXT (the
 *             console's next answer to a prompt; none left: end of input)
 *   faults    "call N -EXXX" (the Nth recorded call fails) or "PREFIX -EXXX" (the first call
 *             whose record starts with PREFIX fails)
 *   stages    the stages to run, in order ("devices" is the profile's own), stopping at the first
 *             failure; or "boot": the whole table through boot_run, then the fatal path's
 *             discard walk if a stage failed; or "main": the same, then what main() does next
 *             (init/emergency.c's fatal path, up to its reboot call); "main exec-fails": no
 *             stages, only main()'s end when the exec of init fails
 *   expect    the golden transcript: "stage X", the fake's recorded calls (the temporary root
 *             written <root>), "result X 0|skipped|-EXXX", "discard X", "report X ok|...",
 *             "layout mounted N, failed N, seeded N", "remedy ..."; and checks kept as
 *             written: "log: TEXT", "nolog: TEXT", "exists: PATH", "absent: PATH",
 *             "content: PATH C-ESCAPED-TEXT" (the whole file), "contains: PATH C-ESCAPED-TEXT"
 *
 * EDGEINIT_UPDATE_GOLDEN=1 rewrites each expect's transcript from the run (leading comments and
 * the checks stay); EDGEINIT_STAGE_CASES=DIR reads the cases from DIR. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "emergency.h"
#include "case_setup.h"
#include "fake_sys.h"
#include "suites.h"

#ifndef EDGEINIT_CASES_DIR
#define EDGEINIT_CASES_DIR "tests/stages/cases"
#endif

#define CASES_MAX 128
#define LINES_MAX 512

static char case_names[CASES_MAX][NAME_MAX + 1];
static int n_cases;
static struct boot_context ctx;
char case_dir[PATH_MAX];
static char *out[LINES_MAX];  /* the transcript */
static int n_out, flushed;
static char *strings[64];     /* what the fake points into, freed at teardown */
static int n_strings;

static const char *cases_dir(void)
{
	const char *e = getenv("EDGEINIT_STAGE_CASES");

	return e && *e ? e : EDGEINIT_CASES_DIR;
}

const char *keep(const char *s)
{
	ck_assert_int_lt(n_strings, (int)ELEMENTSOF(strings));
	return strings[n_strings++] = strdup(s);
}

/* ---- the transcript ---- */

static void t_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void t_add(const char *fmt, ...)
{
	char line[FAKE_CALL_LEN + 64], res[2 * sizeof(line)], *p = line;
	size_t rl = strlen(fake.root), n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* The temporary root, wherever it stands (overlay options carry it), becomes <root>. */
	for (const char *q; (q = strstr(p, fake.root)); p = (char *)q + rl) {
		n += (size_t)snprintf(res + n, sizeof(res) - n, "%.*s<root>", (int)(q - p), p);
	}
	snprintf(res + n, sizeof(res) - n, "%s", p);
	ck_assert_int_lt(n_out, LINES_MAX);
	out[n_out++] = strdup(res);
}

static void flush_calls(void)
{
	for (; flushed < fake.n_calls; flushed++)
		t_add("%s", fake.calls[flushed]);
}

static const char *code(int r, char *buf, size_t size)
{
	const char *name = r < 0 ? strerrorname_np(-r) : NULL;

	if (r == 0)
		return "0";
	if (r == STAGE_RUN_SKIPPED)
		return "skipped";
	if (name)
		snprintf(buf, size, "-%s", name);
	else
		snprintf(buf, size, "%d", r);
	return buf;
}

static void t_result(const char *stage, int r)
{
	char buf[32];

	flush_calls();
	t_add("result %s %s", stage, code(r, buf, sizeof(buf)));
}

int parse_errno(const char *s)
{
	if (s[0] == '-' && s[1] == 'E')
		for (int e = 1; e < 4096; e++) {
			const char *n = strerrorname_np(e);
			if (n && streq(n, s + 1))
				return -e;
		}
	ck_abort_msg("%s: '%s' is not -E<NAME>", case_dir, s);
	return 0;
}

/* ---- reading a case ---- */

/* The case's file, or NULL if it has none. The caller frees. */
static char *case_file(const char *name)
{
	char path[PATH_MAX + 64];
	static char buf[TEXT_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", case_dir, name);
	if (access(path, F_OK) != 0)
		return NULL;
	r = read_small_file(path, buf, sizeof(buf));
	ck_assert_msg(r >= 0, "cannot read %s", path);
	return strdup(buf);
}

/* C escapes: \n \t \\ \xNN. */
static void unescape(const char *s, char *d, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (*s != '\\' || !s[1]) {
			d[n++] = *s;
			continue;
		}
		s++;
		if (*s == 'n')
			d[n++] = '\n';
		else if (*s == 't')
			d[n++] = '\t';
		else if (*s == 'x' && s[1] && s[2]) {
			char hex[3] = { s[1], s[2], 0 };
			d[n++] = (char)strtol(hex, NULL, 16);
			s += 2;
		} else
			d[n++] = *s;
	}
	d[n] = '\0';
}

void root_path(const char *rel, char *buf, size_t size)
{
	ck_assert_int_eq(ctx_path(&ctx, rel, buf, size), 0);
}

static int copy_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char src_root[PATH_MAX + 8], dst[PATH_MAX], link[PATH_MAX];
	static char data[1 << 20];
	FILE *in, *o;
	size_t len;
	ssize_t n;

	(void)ftw;
	snprintf(src_root, sizeof(src_root), "%s/root", case_dir);
	if (streq(path, src_root))
		return 0;
	root_path(path + strlen(src_root), dst, sizeof(dst));
	if (flag == FTW_D)
		return mkdir(dst, st->st_mode & 07777) < 0 && errno != EEXIST ? -1 : 0;
	if (flag == FTW_SL) {
		n = readlink(path, link, sizeof(link) - 1);
		ck_assert_int_ge(n, 0);
		link[n] = '\0';
		return symlink(link, dst);
	}
	in = fopen(path, "r");
	o = fopen(dst, "w");
	ck_assert_msg(in && o, "cannot copy %s", path);
	len = fread(data, 1, sizeof(data), in);
	ck_assert_uint_eq(fwrite(data, 1, len, o), len);
	fclose(in);
	ck_assert_int_eq(fclose(o), 0);
	return chmod(dst, st->st_mode & 07777);
}

/* ---- running ---- */

static const struct stage *find_stage(const char *name)
{
	for (size_t i = 0; i < boot_table_size; i++)
		if (streq(boot_table[i].stage->name, name) &&
		    (boot_table[i].profiles & PROFILE_BIT(ctx.opts_rw.profile)))
			return boot_table[i].stage;
	ck_abort_msg("%s/stages: no stage '%s' in the %s profile", case_dir, name,
		     boot_profile_to_string(ctx.opts_rw.profile));
	return NULL;
}

static void run_stages(char *list)
{
	char *save = NULL;

	for (char *w = strtok_r(list, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		const struct stage *s = find_stage(w);
		int r;

		flush_calls();
		t_add("stage %s", s->name);
		r = s->run(&ctx);
		t_result(s->name, r);
		if (r < 0)
			break;
	}
}

/* boot: the real table, each discard wrapped so that the fatal path's walk is recorded. */
#define WRAP_MAX 20
static const struct stage *wrapped[WRAP_MAX];
static void note_discard(struct boot_context *c, int i)
{
	flush_calls();
	t_add("discard %s", wrapped[i]->name);
	wrapped[i]->discard(c);
	flush_calls();
}
#define W(i) static void discard_##i(struct boot_context *c) { note_discard(c, i); }
W(0) W(1) W(2) W(3) W(4) W(5) W(6) W(7) W(8) W(9)
W(10) W(11) W(12) W(13) W(14) W(15) W(16) W(17) W(18) W(19)
#undef W
static void (*const discards[WRAP_MAX])(struct boot_context *) = {
	discard_0, discard_1, discard_2, discard_3, discard_4, discard_5, discard_6, discard_7,
	discard_8, discard_9, discard_10, discard_11, discard_12, discard_13, discard_14,
	discard_15, discard_16, discard_17, discard_18, discard_19,
};

static void before(struct boot_context *c, const struct stage *s)
{
	(void)c;
	flush_calls();
	t_add("stage %s", s->name);
}

static void after(struct boot_context *c, const struct stage *s, int r)
{
	(void)c;
	t_result(s->name, r);
}

static const char *const results[] = { "not-run", "ok", "failed", "skipped" };
static const struct boot_hooks hooks = { .before = before, .after = after };

/* The real table with each discard wrapped. */
static void wrap_table(struct boot_step *steps)
{
	static struct stage stages[WRAP_MAX];

	ck_assert_uint_le(boot_table_size, WRAP_MAX);
	for (size_t i = 0; i < boot_table_size; i++) {
		wrapped[i] = boot_table[i].stage;
		stages[i] = *boot_table[i].stage;
		if (stages[i].discard)
			stages[i].discard = discards[i];
		steps[i] = (struct boot_step){ &stages[i], boot_table[i].profiles };
	}
}

static void t_report(void)
{
	flush_calls();
	for (size_t i = 0; i < ctx.report.n_stages; i++)
		t_add("report %s %s", ctx.report.stages[i].name, results[ctx.report.stages[i].result]);
}

static void run_boot(void)
{
	struct boot_step steps[WRAP_MAX];
	const struct stage *failed = NULL;
	int r;

	wrap_table(steps);
	r = boot_run(&ctx, steps, boot_table_size, &hooks, &failed);
	if (r < 0) {
		t_result(failed->name, r);
		t_add("fatal %s", failed->name);
		boot_discard(&ctx);
		/* A second walk (the exec failed after the fatal path began) does nothing. */
		boot_discard(&ctx);
	}
	t_report();
}

/* main: what init/main.c does after boot_run, as far as it goes without PID-1 effects: on a
 * failure, the fatal path of init/emergency.c (the FATAL block, boot.json, the failure report,
 * the discard walk, then rd.emergency='s reboot call). emergency() never returns, so it runs in a
 * child, which the fake's reboot ends: it hands the transcript and the log back in a file. */
static char dump_path[PATH_MAX + 8];

static _noreturn_ void main_dump(void)
{
	FILE *f = fopen(dump_path, "w");

	t_report();
	for (int i = 0; f && i < n_out; i++)
		fprintf(f, "%s\n", out[i]);
	if (f)
		fprintf(f, "%c%s", '\001', fake_log);
	_exit(!f || fclose(f) != 0);
}

static int main_reboot(int cmd)
{
	(void)sys_fake.machine->reboot(cmd);
	flush_calls();
	main_dump();
}

static void run_main(bool exec_fails)
{
	static struct sys_machine_ops machine;
	static struct sys_ops ops;
	struct boot_step steps[WRAP_MAX];
	char dump[TEXT_MAX], *sep, *save = NULL;
	int status;
	pid_t pid;

	snprintf(dump_path, sizeof(dump_path), "%s.main", fake.root);
	ops = sys_fake;
	machine = *sys_fake.machine;
	machine.reboot = main_reboot;
	ops.machine = &machine;
	ctx.sys = &ops;
	wrap_table(steps);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const struct stage *failed = NULL;
		int r;

		alarm(25); /* emergency() waits for ever if the reboot call returns */
		if (exec_fails) {
			/* main() after the last stage: the context closed, then execv() failed. */
			boot_context_done(&ctx);
			t_add("fatal exec");
			emergency(&ctx, "exec", -ENOENT);
		}
		r = boot_run(&ctx, steps, boot_table_size, &hooks, &failed);
		if (r < 0) {
			t_result(failed->name, r);
			t_add("fatal %s", failed->name);
			emergency(&ctx, failed->name, r);
		}
		t_add("exec init"); /* main() would execute init= here */
		main_dump();
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the main child failed (%d)",
		      case_dir, status);
	ck_assert_int_ge(read_small_file(dump_path, dump, sizeof(dump)), 0);
	unlink(dump_path);
	sep = strchr(dump, '\001');
	ck_assert_ptr_nonnull(sep);
	*sep = '\0';
	str_copy(fake_log, sizeof(fake_log), sep + 1);
	for (char *l = strtok_r(dump, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		ck_assert_int_lt(n_out, LINES_MAX);
		out[n_out++] = strdup(l);
	}
}

/* ---- checking ---- */

static bool is_check(const char *line)
{
	return str_startswith(line, "log: ") || str_startswith(line, "nolog: ") ||
	       str_startswith(line, "exists: ") || str_startswith(line, "absent: ") ||
	       str_startswith(line, "content: ") || str_startswith(line, "contains: ");
}

static int check_line(const char *line)
{
	char path[PATH_MAX], want[4096], got[TEXT_MAX];
	const char *v;
	int n;

	if ((v = str_startswith(line, "log: ")))
		return fake_logged(v) ? 0 : -1;
	if ((v = str_startswith(line, "nolog: ")))
		return fake_logged(v) ? -1 : 0;
	if ((v = str_startswith(line, "exists: ")) || (v = str_startswith(line, "absent: "))) {
		root_path(v, path, sizeof(path));
		return (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0) == (line[0] == 'e') ? 0 : -1;
	}
	v = str_startswith(line, "content: ") ?: str_startswith(line, "contains: ");
	const char *sp = strchr(v, ' ');
	ck_assert_ptr_nonnull(sp);
	snprintf(want, sizeof(want), "%.*s", (int)(sp - v), v);
	root_path(want, path, sizeof(path));
	unescape(sp + 1, want, sizeof(want));
	n = read_small_file(path, got, sizeof(got));
	if (n < 0)
		return -1;
	/* contains: anywhere in the bytes (an EFI variable starts with its attributes, NULs). */
	return (line[4] == 'e' ? streq(got, want) : memmem(got, (size_t)n, want, strlen(want)) != NULL) ? 0 : -1;
}

static int by_name(const void *a, const void *b) { return strcmp(a, b); }
static int by_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* The devices are probed in the order the fake sysfs lists them, which is the file system's own
 * (ext4 hashes names with a seed of its own): a run of probes is compared in the kernel's name
 * order (vda, vda2, vda10), so a golden holds on any machine. So is a run of LUKS2 key
 * derivations: EMT's run on worker threads, in whatever order they take their volumes. */
static void sort_run_of(char **lines, int n, const char *prefix)
{
	for (int i = 0; i < n;) {
		int j = i;

		while (j < n && str_startswith(lines[j], prefix))
			j++;
		if (j - i > 1)
			qsort(lines + i, (size_t)(j - i), sizeof(lines[0]), by_version);
		i = j > i ? j : i + 1;
	}
}

/* EMT derives the keys of the volumes the slot does not need in the background, from its first
 * activation until emt-late joins it, between whatever calls the emt stage makes meanwhile: those
 * derivations are compared as if all came first in emt-late (which waits for them before its
 * first call). */
static void background_to_emt_late(char **lines, int n)
{
	int first_open = -1, late = -1;

	for (int i = 0; i < n && late < 0; i++)
		if (first_open < 0 && str_startswith(lines[i], "luks_activate "))
			first_open = i;
		else if (streq(lines[i], "stage emt-late"))
			late = i;
	if (first_open < 0 || late < 0)
		return;
	for (int i = late - 1; i > first_open; i--) {
		char *d = lines[i];

		if (!str_startswith(d, "luks_derive "))
			continue;
		memmove(lines + i, lines + i + 1, (size_t)(late - i) * sizeof(lines[0]));
		lines[late--] = d;
	}
}

static void sort_probe_runs(char **lines, int n)
{
	sort_run_of(lines, n, "probe ");
	sort_run_of(lines, n, "luks_derive ");
}

/* A readable diff of the golden and the run: changed lines with two lines of context. */
static void print_diff(char **a, int na, char **b, int nb)
{
	static short l[LINES_MAX + 1][LINES_MAX + 1];
	char mark[2 * LINES_MAX], *txt[2 * LINES_MAX];
	int i, j, k = 0;

	for (i = na; i >= 0; i--)
		for (j = nb; j >= 0; j--)
			l[i][j] = i == na || j == nb ? 0 : streq(a[i], b[j]) ? l[i + 1][j + 1] + 1
				  : l[i + 1][j] > l[i][j + 1] ? l[i + 1][j] : l[i][j + 1];
	for (i = j = 0; i < na || j < nb; k++)
		if (i < na && j < nb && streq(a[i], b[j]))
			mark[k] = ' ', txt[k] = a[i++], j++;
		else if (i < na && (j == nb || l[i + 1][j] >= l[i][j + 1]))
			mark[k] = '-', txt[k] = a[i++];
		else
			mark[k] = '+', txt[k] = b[j++];
	fprintf(stderr, "--- %s/expect\n+++ this run\n", case_dir);
	for (i = 0; i < k; i++) {
		bool near = false;
		for (j = i - 2; j <= i + 2; j++)
			near |= j >= 0 && j < k && mark[j] != ' ';
		if (near)
			fprintf(stderr, "%c%s\n", mark[i], txt[i]);
		else if (i > 0 && mark[i - 1] != ' ')
			fprintf(stderr, "...\n");
	}
}

static void update_golden(char **lines, int n)
{
	char path[PATH_MAX + 16];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/expect", case_dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < n && lines[i][0] == '#'; i++)
		fprintf(f, "%s\n", lines[i]);
	for (int k = 0; k < n_out; k++)
		fprintf(f, "%s\n", out[k]);
	for (; i < n; i++)
		if (is_check(lines[i]))
			fprintf(f, "%s\n", lines[i]);
	ck_assert_int_eq(fclose(f), 0);
	fprintf(stderr, "updated %s\n", path);
}

static void setup(void)
{
	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
	ctx_debug_hold_max_sec = 0;
	n_out = flushed = n_strings = 0;
}

static void teardown(void)
{
	boot_context_done(&ctx);
	fake_teardown();
	for (int i = 0; i < n_out; i++)
		free(out[i]);
	for (int i = 0; i < n_strings; i++)
		free(strings[i]);
}

START_TEST(stage_case)
{
	_cleanup_free_ char *cmdline = NULL, *setup_text = NULL, *faults = NULL, *stages = NULL,
			    *expect = NULL;
	char *lines[LINES_MAX], *gold[LINES_MAX], *save = NULL, path[PATH_MAX + 8];
	int n_lines = 0, n_gold = 0, failed_checks = 0;
	bool same;

	snprintf(case_dir, sizeof(case_dir), "%s/%s", cases_dir(), case_names[_i]);
	stages = case_file("stages");
	expect = case_file("expect");
	ck_assert_msg(stages, "%s: no stages file", case_dir);
	snprintf(path, sizeof(path), "%s/root", case_dir);
	if (access(path, F_OK) == 0)
		ck_assert_int_eq(nftw(path, copy_entry, 16, FTW_PHYS), 0);
	cmdline = case_file("cmdline");
	fake_write("/proc/cmdline", cmdline ? cmdline : "");
	if ((setup_text = case_file("setup")))
		apply_setup(&ctx, setup_text);
	if ((faults = case_file("faults")))
		apply_faults(faults);
	/* What the cmdline stage would have set, for cases that start after it. */
	if (!strstr(stages, "cmdline") && !strstr(stages, "boot") &&
	    (!strstr(stages, "main") || strstr(stages, "exec-fails")) && cmdline) {
		char bad[CMDLINE_KEY_MAX], reason[CMDLINE_REASON_MAX];
		ck_assert_int_eq(boot_options_parse(cmdline, &ctx.opts_rw, NULL, NULL, bad, reason), 0);
	}
	fake.n_calls = 0; /* the setup's own calls (uevent_open) are not the stage's */

	if (str_startswith(stages, "boot"))
		run_boot();
	else if (str_startswith(stages, "main"))
		run_main(strstr(stages, "exec-fails") != NULL);
	else
		run_stages(stages);
	flush_calls();
	if (ctx.report.layout_mounts || ctx.report.layout_failed || ctx.report.layout_seeded)
		t_add("layout mounted %u, failed %u, seeded %u", ctx.report.layout_mounts,
		      ctx.report.layout_failed, ctx.report.layout_seeded);
	if (ctx.remedy[0])
		t_add("remedy %s", ctx.remedy);

	for (char *l = expect ? strtok_r(expect, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		ck_assert_int_lt(n_lines, LINES_MAX);
		lines[n_lines++] = l;
		if (l[0] == '#' || !l[0])
			continue;
		if (is_check(l)) {
			if (check_line(l) < 0) {
				fprintf(stderr, "%s/expect: check failed: %s\n", case_dir, l);
				failed_checks++;
			}
		} else
			gold[n_gold++] = l;
	}
	background_to_emt_late(out, n_out);
	sort_probe_runs(out, n_out);
	sort_probe_runs(gold, n_gold);
	same = n_gold == n_out;
	for (int i = 0; same && i < n_out; i++)
		same = streq(gold[i], out[i]);
	if (!same && getenv("EDGEINIT_UPDATE_GOLDEN"))
		update_golden(lines, n_lines);
	else if (!same)
		print_diff(gold, n_gold, out, n_out);
	if (failed_checks)
		fprintf(stderr, "%s: the log was:\n%s", case_dir, fake_log);
	ck_assert_msg(same || getenv("EDGEINIT_UPDATE_GOLDEN"),
		      "%s: the run differs from expect (diff above; EDGEINIT_UPDATE_GOLDEN=1 rewrites it)", case_dir);
	ck_assert_msg(!failed_checks, "%s: %d check(s) failed", case_dir, failed_checks);
}
END_TEST


Suite *stage_cases_suite(void)
{
	Suite *s = suite_create("stage-cases");
	TCase *tc = tcase_create("cases");
	DIR *d = opendir(cases_dir());
	struct dirent *e;

	if (!d) { /* no ck_assert outside a test */
		fprintf(stderr, "stage cases: cannot open %s: %m\n", cases_dir());
		exit(EXIT_FAILURE);
	}
	while ((e = readdir(d)) && n_cases < CASES_MAX) {
		struct stat st;
		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
			str_copy(case_names[n_cases++], sizeof(case_names[0]), e->d_name);
	}
	closedir(d);
	if (n_cases == 0) {
		fprintf(stderr, "stage cases: no case in %s\n", cases_dir());
		exit(EXIT_FAILURE);
	}
	qsort(case_names, (size_t)n_cases, sizeof(case_names[0]), by_name);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, stage_case, 0, n_cases);
	suite_add_tcase(s, tc);
	return s;
}
