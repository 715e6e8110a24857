/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout.env: EMT's file of tmpfs overlays and persistent bind mounts. Parsed without ever being
 * executed, validated, and turned into an ordered plan of actions that the layout stage (and the
 * edgeinit-layout host tool) share. Pure: no I/O except through struct layout_root_ops. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define LAYOUT_PATHS_MAX 256   /* per list */
#define LAYOUT_PATH_MAX 256    /* bytes, including the NUL */
#define LAYOUT_FILE_MAX (256 * 1024)

/* Where the persistent partition is mounted in the new root; PERSISTENT_BIND_TARGET must be
 * below it (EMT: "its first path component is where the persistent partition is mounted"). */
#define LAYOUT_PERSIST_MOUNT "/opt"

struct layout_diag {
	unsigned line;    /* 1-based; 0 when not tied to a line */
	unsigned column;  /* 1-based; 0 when not tied to a column */
	char message[256];
};

struct layout_path {
	char path[LAYOUT_PATH_MAX];
	unsigned line;    /* where it was written, for messages */
	unsigned column;  /* 1-based; 0 for the default /var */
};

struct layout {
	bool overlay_tmpfs;                      /* OVERLAY starts with "tmpfs:" */
	char tmpfs_size[32];                     /* "25%", "512m": tmpfs size= */
	bool overlay_paths_set;                  /* TMPFS_OVERLAYS_PATHS given (even if empty) */
	struct layout_path overlay_paths[LAYOUT_PATHS_MAX];
	size_t n_overlay_paths;
	struct layout_path bind_paths[LAYOUT_PATHS_MAX];
	size_t n_bind_paths;
	char bind_target[LAYOUT_PATH_MAX];       /* PERSISTENT_BIND_TARGET */
	char overlay_target[LAYOUT_PATH_MAX];    /* TMPFS_OVERLAY_TARGET */
	unsigned bind_target_line;               /* where the targets were set; 0: default */
	unsigned overlay_target_line;
	unsigned bind_target_column;             /* where the targets' values start; 0: default */
	unsigned overlay_target_column;
};

/* Parse layout.env text (len bytes, need not be NUL-terminated). Applies EMT's defaults for
 * unset variables (OVERLAY=tmpfs:25%, TMPFS_OVERLAYS_PATHS=/var only when unset,
 * PERSISTENT_BIND_TARGET=/opt/.mount/persistent, TMPFS_OVERLAY_TARGET=/opt/.mount/tmpfs).
 * Returns 0, or -EINVAL with diag filled for the first error (line and column). Anything that
 * would need a shell to evaluate is an error. Unknown variable names are ignored (EMT's file may
 * carry others), but are not an error. */
int layout_parse(const char *text, size_t len, struct layout *l, struct layout_diag *diag);

/* Check a parsed layout before anything is mounted: absolute normalised paths, no "..", no
 * duplicates, nothing inside the persistent mount, no mangled-name collisions, no overlay
 * basename "work", targets below LAYOUT_PERSIST_MOUNT, limits. -EINVAL with diag (the line of
 * the offending path) for the first problem. */
int layout_validate(const struct layout *l, struct layout_diag *diag);

/* EMT's on-disk name of a path: without the leading '/', '/' replaced by '-'.
 * "/usr/share/pki" -> "usr-share-pki". -E2BIG if it does not fit. */
int layout_mangle(const char *path, char *out, size_t size);

enum layout_action_kind {
	LAYOUT_ACTION_MKDIR,        /* create target (and parents) on the persistent partition */
	LAYOUT_ACTION_MOUNT_TMPFS,  /* tmpfs with size=option at target */
	LAYOUT_ACTION_OVERLAY,      /* overlayfs lowerdir=path,upperdir=upper,workdir=work onto path;
				     * upper/work are created first, upper copying path's owner, mode,
				     * ACLs and SELinux label */
	LAYOUT_ACTION_SEED_DIR,     /* copy into target what it lacks from path (never overwrite) */
	LAYOUT_ACTION_SEED_FILE,    /* copy path to target if target is missing */
	LAYOUT_ACTION_BIND,         /* bind-mount source onto path */
	LAYOUT_ACTION_SKIP,         /* path is skipped; reason says why (a warning) */
};

struct layout_action {
	enum layout_action_kind kind;
	char path[LAYOUT_PATH_MAX];    /* the path in the new root this is about ("" if none) */
	char target[LAYOUT_PATH_MAX];  /* MKDIR/MOUNT_TMPFS/SEED_*: where; BIND: unused */
	char source[LAYOUT_PATH_MAX];  /* BIND: what is bound onto path */
	char upper[LAYOUT_PATH_MAX];   /* OVERLAY */
	char work[LAYOUT_PATH_MAX];    /* OVERLAY */
	char option[64];               /* MOUNT_TMPFS: "size=25%" */
	char reason[128];              /* SKIP */
	unsigned line;                 /* layout.env line of the path, 0 for derived actions */
};

/* What the planner may ask about the new root. Paths are absolute in the new root ("/etc"). */
struct layout_root_ops {
	/* 'd' directory, 'l' symbolic link (never followed; the path is skipped), 'f' anything
	 * else that exists, 0 missing, -errno on error */
	int (*kind)(void *userdata, const char *path);
	/* 1 if path is a mount point, 0 if not */
	int (*is_mount)(void *userdata, const char *path);
	void *userdata;
};

struct layout_plan {
	struct layout_action *actions; /* malloc'ed */
	size_t n, allocated;
};

/* Build the ordered plan for a validated layout: MKDIR + MOUNT_TMPFS of the overlay target
 * (MOUNT_TMPFS only when OVERLAY is tmpfs), one OVERLAY per overlay path in list order, then per
 * bind path in list order MKDIR of the state directory, SEED_DIR or SEED_FILE, BIND. Paths that
 * are missing or already mounted become SKIP. Returns 0 or -errno. */
int layout_plan_build(const struct layout *l, const struct layout_root_ops *root,
		      struct layout_plan *plan);
void layout_plan_free(struct layout_plan *plan);

/* One line per action, e.g. "overlay /var lower=/var upper=... work=...". -ENOSPC if small. */
int layout_plan_format_text(const struct layout_plan *plan, char *buf, size_t size);
/* A JSON array of action objects. -ENOSPC if small. */
int layout_plan_format_json(const struct layout_plan *plan, char *buf, size_t size);

/* ------------------------- edgeinit-layout check: every diagnostic ------------------------- */

enum layout_severity {
	LAYOUT_WARNING, /* the initrd boots with it, but it is almost certainly a mistake */
	LAYOUT_ERROR,   /* the initrd refuses the file, or the path cannot work */
};

struct layout_finding {
	enum layout_severity severity;
	unsigned line;      /* 1-based; 0 when not tied to a line (a default, the whole file) */
	unsigned column;    /* 1-based, in bytes; 0 when not tied to a column */
	char code[32];      /* stable name for tools: "unknown-variable", "syntax", ... */
	char message[384];
	char hint[256];     /* what to do; "" if nothing specific */
};

#define LAYOUT_FINDINGS_MAX 1000 /* listed; the rest are only counted */

struct layout_findings {
	struct layout_finding *items; /* malloc'ed, in file order */
	size_t n, allocated;
	size_t dropped[2];            /* per severity: beyond LAYOUT_FINDINGS_MAX, not listed */
};

/* Everything `edgeinit-layout check` reports about layout.env text, in file order:
 *   errors: the parser's (the first syntax error; parsing stops there), every validation
 *     problem layout_validate() would refuse (not just the first), paths on /proc, /sys, /dev,
 *     /run ("api-filesystem") or under /sysroot ("sysroot");
 *   warnings: assignments to unknown variable names, with the nearest known name when it is
 *     close ("unknown-variable"), a plain assignment to a variable already assigned
 *     ("assigned-twice"; the last wins), and, when root is not NULL, /var/lib/docker,
 *     /var/lib/containerd or /var/lib/rancher present in the image under an overlay and not
 *     kept by a persistent bind ("container-runtime").
 * l receives the parsed layout (zeroed when parsing failed). Returns 0 (findings may be
 * empty), -ENOMEM, or the error root->kind returned; out is empty on failure. */
int layout_check(const char *text, size_t len, const struct layout_root_ops *root,
		 struct layout *l, struct layout_findings *out);
/* How many findings of a severity, dropped ones included. */
size_t layout_findings_count(const struct layout_findings *f, enum layout_severity severity);
void layout_findings_free(struct layout_findings *f);
/* "FILE:LINE:COL: warning: message [code]" and "FILE:LINE:COL: note: hint" lines (FILE:LINE:
 * or FILE: when the position is unknown). strict prints warnings as errors. -ENOSPC if small. */
int layout_findings_format_text(const struct layout_findings *f, const char *file, bool strict,
				char *buf, size_t size);
/* A JSON array of {file, line, column, severity, code, message, hint}; line, column and hint
 * are null when unknown or empty. strict reports warnings as "error". -ENOSPC if small. */
int layout_findings_format_json(const struct layout_findings *f, const char *file, bool strict,
				char *buf, size_t size);
