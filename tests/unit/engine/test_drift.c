/* What differs between two catalog listings, object by object (engine_drift_diff). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/engine.h"

static void lines(struct dd_strv *out, const char *const *v)
{
    for (; *v; v++)
        dd_strv_push(out, *v);
}

static void test_added_dropped_changed(void **state)
{
    static const char *const recorded[] = {
        "column public.accounts.email\ttext not null",
        "column public.accounts.name\ttext",
        "function public.f(integer)\t0123456789abcdef0123456789abcdef",
        "index public.orders_status_idx\tCREATE INDEX orders_status_idx ON public.orders USING btree (status)",
        "table public.accounts\tr",
        NULL};
    static const char *const live[] = {"column public.accounts.email\ttext not null",
                                       "column public.accounts.name\tcharacter varying(20)",
                                       "column public.accounts.nickname\ttext",
                                       "function public.f(integer)\tfedcba9876543210fedcba9876543210",
                                       "table public.accounts\tr",
                                       NULL};
    struct dd_strv a = DD_STRV_INIT, b = DD_STRV_INIT, changes = DD_STRV_INIT;

    (void)state;
    lines(&a, recorded);
    lines(&b, live);
    engine_drift_diff(&changes, &a, &b);
    assert_int_equal(changes.n, 4);
    assert_string_equal(changes.v[0], "column public.accounts.name changed: text -> character varying(20)");
    assert_string_equal(changes.v[1], "column public.accounts.nickname added (text)");
    assert_string_equal(changes.v[2], "function public.f(integer) changed");
    assert_string_equal(changes.v[3], "index public.orders_status_idx dropped");
    dd_strv_release(&a);
    dd_strv_release(&b);
    dd_strv_release(&changes);
}

static void test_same_listing_no_changes(void **state)
{
    static const char *const same[] = {"schema public", "table public.t\tr", NULL};
    struct dd_strv a = DD_STRV_INIT, b = DD_STRV_INIT, changes = DD_STRV_INIT;

    (void)state;
    lines(&a, same);
    lines(&b, same);
    engine_drift_diff(&changes, &a, &b);
    assert_int_equal(changes.n, 0);
    /* against nothing: everything is added; from everything to nothing: dropped */
    engine_drift_diff(&changes, &(struct dd_strv)DD_STRV_INIT, &b);
    assert_int_equal(changes.n, 2);
    assert_string_equal(changes.v[0], "schema public added");
    dd_strv_release(&a);
    dd_strv_release(&b);
    dd_strv_release(&changes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_added_dropped_changed),
        cmocka_unit_test(test_same_listing_no_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
