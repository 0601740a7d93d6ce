#include "cli/cli.h"

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return dd_error_set(&ctx->err, DD_EUSAGE, "'init' is being built");
}
