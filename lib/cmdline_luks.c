/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel command line's LUKS and TPM options (rd.luks.*, edgeinit.tpm2.emt-handle=) and the
 * questions the unlock code asks of them. Pure: no I/O, no logging, no globals. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "edgeinit/cmdline.h"
#include "edgeinit/strutil.h"
#include "cmdline_internal.h"

/* A LUKS UUID as systemd accepts it: optionally prefixed "luks-", any case; stored lower case. */
int cmdline_parse_uuid(const char *s, size_t len, char out[37])
{
	if (len > 5 && strncmp(s, "luks-", 5) == 0)
		s += 5, len -= 5;
	if (len != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-' : !strchr("0123456789abcdefABCDEF", c))
			return -EINVAL;
		out[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
	}
	out[36] = '\0';
	return 0;
}

static bool valid_mapper_name(const char *s)
{
	return *s && strlen(s) < LUKS_NAME_MAX && !strchr(s, '/') && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

int cmdline_parse_luks_name(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	const char *eq = w->has_value ? strchr(w->value, '=') : NULL;
	struct luks_name n;

	if (!eq || cmdline_parse_uuid(w->value, (size_t)(eq - w->value), n.uuid) < 0 ||
	    !valid_mapper_name(eq + 1)) {
		snprintf(reason, CMDLINE_REASON_MAX, "must be <LUKS UUID>=<mapper name>");
		return -EINVAL;
	}
	str_copy(n.name, sizeof(n.name), eq + 1);
	for (size_t i = 0; i < o->n_luks_names; i++)
		if (strcmp(o->luks_names[i].uuid, n.uuid) == 0) {
			o->luks_names[i] = n; /* later wins */
			return 0;
		}
	if (o->n_luks_names >= LUKS_VOLUMES_MAX) {
		snprintf(reason, CMDLINE_REASON_MAX, "more than %d volumes", LUKS_VOLUMES_MAX);
		return -EINVAL;
	}
	o->luks_names[o->n_luks_names++] = n;
	return 0;
}

int cmdline_parse_luks_uuid_option(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	char uuid[37];

	if (!w->has_value || cmdline_parse_uuid(w->value, strlen(w->value), uuid) < 0) {
		snprintf(reason, CMDLINE_REASON_MAX, "must be a LUKS UUID");
		return -EINVAL;
	}
	for (size_t i = 0; i < o->n_luks_uuids; i++)
		if (strcmp(o->luks_uuids[i], uuid) == 0)
			return 0;
	if (o->n_luks_uuids >= LUKS_VOLUMES_MAX) {
		snprintf(reason, CMDLINE_REASON_MAX, "more than %d volumes", LUKS_VOLUMES_MAX);
		return -EINVAL;
	}
	memcpy(o->luks_uuids[o->n_luks_uuids++], uuid, 37);
	return 0;
}

int cmdline_parse_luks_key(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	if (!w->has_value || w->value[0] != '/' || strstr(w->value, "/../") || strchr(w->value, ':') ||
	    str_copy(o->luks_key, sizeof(o->luks_key), w->value) < 0) {
		snprintf(reason, CMDLINE_REASON_MAX,
			 "must be the absolute path of a key file in the initrd (a key file on another device is not supported)");
		return -EINVAL;
	}
	return 0;
}

int cmdline_parse_luks_tries(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return cmdline_parse_seconds(&o->luks_tries, w, 0, 100, reason);
}

int cmdline_parse_luks_options(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	char buf[CMDLINE_VALUE_MAX], *save = NULL, *tok;
	const char *opts;
	unsigned long long v;

	if (!w->has_value || !w->value[0]) {
		snprintf(reason, CMDLINE_REASON_MAX, "a value is required");
		return -EDOM;
	}
	/* "<UUID>=<options>" applies to one volume; edgeinit opens one, so it is treated alike. */
	opts = strchr(w->value, '=') && strchr(w->value, '=') - w->value >= 36 ? strchr(w->value, '=') + 1
									      : w->value;
	str_copy(buf, sizeof(buf), opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *v_str;

		if (strcmp(tok, "headless") == 0 || strcmp(tok, "headless=1") == 0 ||
		    strcmp(tok, "headless=yes") == 0)
			o->luks_headless = true;
		else if ((v_str = str_startswith(tok, "tries=")) && parse_uint(v_str, 100, &v) == 0)
			o->luks_tries = (unsigned)v;
		else if ((v_str = str_startswith(tok, "timeout=")) && parse_uint(v_str, 86400, &v) == 0) {
			o->luks_timeout_sec = (unsigned)v;
			o->luks_timeout_set = true;
		}
		else if ((v_str = str_startswith(tok, "tpm2-measure-pcr=")))
			o->luks_measure_pcr = !(strcmp(v_str, "no") == 0 || strcmp(v_str, "false") == 0 ||
						strcmp(v_str, "0") == 0 || strcmp(v_str, "off") == 0);
		else if ((v_str = str_startswith(tok, "tpm2-device="))) {
			if (strcmp(v_str, "auto") == 0) {
				o->luks_tpm2 = true;
				str_copy(o->luks_tpm2_device, sizeof(o->luks_tpm2_device), "/dev/tpmrm0");
			} else if (v_str[0] == '/' && str_copy(o->luks_tpm2_device,
							       sizeof(o->luks_tpm2_device), v_str) == 0)
				o->luks_tpm2 = true;
			else
				o->luks_tpm2 = false; /* off, none, anything else: no TPM */
		}
		/* Other systemd-cryptsetup options (discard, no-read-workqueue, ...) are accepted
		 * and not needed by the unlock itself. */
	}
	return 0;
}

int cmdline_parse_emt_handle(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	const char *v = w->has_value ? w->value : "";
	char *end = NULL;
	unsigned long h;

	if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0) {
		o->tpm2_emt_handle = 0;
		o->tpm2_emt_handle_set = true;
		return 0;
	}
	errno = 0;
	h = strtoul(v, &end, 16);
	/* Persistent handles live in 0x81000000-0x81ffffff. */
	if (!*v || errno || *end || h < 0x81000000UL || h > 0x81ffffffUL) {
		snprintf(reason, CMDLINE_REASON_MAX, "must be a persistent handle 0x81000000..0x81ffffff, or 0 to turn it off");
		return -EDOM; /* as if the word were not there */
	}
	o->tpm2_emt_handle = (uint32_t)h;
	o->tpm2_emt_handle_set = true;
	return 0;
}

/* boot_uuid=: EMT's slot selector, the LUKS or ext4 UUID of the slot's root partition. EMT's
 * script reads the 36 characters after "boot_uuid="; anything but a UUID there is refused. */

bool boot_options_expect_luks(const struct boot_options *o)
{
	return o->n_luks_names > 0 || o->n_luks_uuids > 0 || o->luks_key[0] || o->tpm2_emt_handle != 0;
}

const char *boot_options_luks_name(const struct boot_options *o, const char *uuid)
{
	for (size_t i = 0; i < o->n_luks_names; i++)
		if (strcasecmp(o->luks_names[i].uuid, uuid) == 0)
			return o->luks_names[i].name;
	return NULL;
}

bool boot_options_luks_allowed(const struct boot_options *o, const char *uuid)
{
	if (o->n_luks_uuids == 0)
		return true;
	for (size_t i = 0; i < o->n_luks_uuids; i++)
		if (strcasecmp(o->luks_uuids[i], uuid) == 0)
			return true;
	return false;
}
