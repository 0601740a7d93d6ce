#include "cli/cli.h"

int cmd_new(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return dd_error_set(&ctx->err, DD_EUSAGE, "'new' is being built");
}
