#include "cli/cli.h"

int cmd_mark(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return dd_error_set(&ctx->err, DD_EUSAGE, "'mark' is being built");
}
