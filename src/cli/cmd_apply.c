#include "cli/cli.h"

int cmd_apply(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return dd_error_set(&ctx->err, DD_EUSAGE, "'apply' is being built");
}
