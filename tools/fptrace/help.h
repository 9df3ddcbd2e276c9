/* help.h — the help texts of fptrace and its version. */
#ifndef FPT_HELP_H
#define FPT_HELP_H

#include <stdio.h>

extern const char fpt_version[];

/* The commands, one line each. */
void fpt_help_overview(FILE *out);

/* cmd's synopsis, options with defaults, exit status; -1 if cmd is unknown. */
int fpt_help_command(FILE *out, const char *cmd);

#endif
