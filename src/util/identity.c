#include "util/identity.h"

#include <pwd.h>
#include <unistd.h>

char *dd_whoami(void)
{
    const char *override = getenv("DBDEPLOY_USER");
    const char *user = NULL;
    struct passwd *pw;
    char host[256] = "localhost";

    if (override && *override)
        return dd_xstrdup(override);
    pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        user = pw->pw_name;
    if (!user)
        user = getenv("USER");
    if (gethostname(host, sizeof(host)) < 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
    return dd_xasprintf("%s@%s", user ? user : "unknown", *host ? host : "localhost");
}
