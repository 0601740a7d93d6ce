/* Archive names, part names, listing order and the choice of archives to prune. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backup/internal.h"

#define COMMIT "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"

static void test_name_has_utc_stamp_and_short_commit(void **state)
{
    char *n = bk_name_format(1795256100, COMMIT, 0); /* 2026-11-21T10:15:00Z */

    (void)state;
    assert_string_equal(n, "20261121T101500Z-1a2b3c4.tar.zst");
    free(n);
}

static void test_name_without_commit_says_nogit(void **state)
{
    char *n = bk_name_format(1795256100, NULL, 0);

    (void)state;
    assert_string_equal(n, "20261121T101500Z-nogit.tar.zst");
    free(n);
}

static void test_name_sequence_suffix_from_two(void **state)
{
    char *n = bk_name_format(1795256100, COMMIT, 2);

    (void)state;
    assert_string_equal(n, "20261121T101500Z-1a2b3c4-2.tar.zst");
    free(n);
}

static void test_name_parse_round_trips(void **state)
{
    struct bk_name nm;
    unsigned seqs[] = {0, 2, 17};

    (void)state;
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        char *n = bk_name_format(1795256100, COMMIT, seqs[i]);
        assert_int_equal(bk_name_parse(&nm, n), 0);
        assert_int_equal(nm.time, 1795256100);
        assert_string_equal(nm.commit, "1a2b3c4");
        assert_int_equal(nm.seq, seqs[i]);
        free(n);
    }
    assert_int_equal(bk_name_parse(&nm, "20261121T101500Z-nogit-3.tar.zst"), 0);
    assert_string_equal(nm.commit, "nogit");
    assert_int_equal(nm.seq, 3);
}

static void test_name_parse_rejects_other_files(void **state)
{
    static const char *const bad[] = {
        ".20261121T101500Z-1a2b3c4.tar.zst.tmp-123", /* temporary file */
        "20261121T101500Z-1a2b3c4.tar.zst.tmp-123",
        "20261121T101500Z-1a2b3c4.tar.gz",
        "20261121T101500Z-1A2B3C4.tar.zst", /* uppercase is not what we write */
        "20261121T101500Z-1a2b3.tar.zst",   /* commit too short */
        "20261121T101500Z-1a2b3c4-1.tar.zst",
        "20261121T101500Z-1a2b3c4-02.tar.zst",
        "20261121T101500Z-1a2b3c4-.tar.zst",
        "20261131T101500Z-1a2b3c4.tar.zst", /* 31 November */
        "20261121T251500Z-1a2b3c4.tar.zst",
        "20261121-101500Z-1a2b3c4.tar.zst",
        "README.md",
        "",
    };
    struct bk_name nm;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(bk_name_parse(&nm, bad[i]), -1);
}

static void test_part_names_are_six_digits_and_parse_back(void **state)
{
    char name[64];

    (void)state;
    bk_part_name(name, sizeof(name), 1);
    assert_string_equal(name, "dump/part-000001");
    assert_int_equal(bk_part_index(name), 1);
    bk_part_name(name, sizeof(name), 1234567);
    assert_string_equal(name, "dump/part-1234567");
    assert_int_equal(bk_part_index(name), 1234567);
    assert_int_equal(bk_part_index("dump/part-000000"), 0);
    assert_int_equal(bk_part_index("dump/part-00001"), 0);
    assert_int_equal(bk_part_index("dump/part-0000001"), 0);
    assert_int_equal(bk_part_index("dump/part-00000a"), 0);
    assert_int_equal(bk_part_index("dump/other"), 0);
    assert_int_equal(bk_part_index("part-000001"), 0);
}

static void add_entry(struct backup_list *l, const char *name)
{
    struct bk_name nm;
    struct backup_entry *e;

    assert_int_equal(bk_name_parse(&nm, name), 0);
    DD_ALLOC_GROW(l->v, l->n + 1, l->alloc);
    e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    e->name = dd_xstrdup(name);
    e->path = dd_xasprintf("dir/prod/%s", name);
    e->time = nm.time;
    e->seq = nm.seq;
}

static int cmp(const void *a, const void *b)
{
    return bk_entry_cmp(a, b);
}

static void test_entries_sort_by_time_then_sequence(void **state)
{
    struct backup_list l = BACKUP_LIST_INIT;

    (void)state;
    add_entry(&l, "20261121T101500Z-1a2b3c4-2.tar.zst");
    add_entry(&l, "20270101T000000Z-aaaaaaa.tar.zst");
    add_entry(&l, "20261121T101500Z-1a2b3c4.tar.zst");
    add_entry(&l, "20251231T235959Z-nogit.tar.zst");
    qsort(l.v, l.n, sizeof(*l.v), cmp);
    assert_string_equal(l.v[0].name, "20251231T235959Z-nogit.tar.zst");
    assert_string_equal(l.v[1].name, "20261121T101500Z-1a2b3c4.tar.zst");
    assert_string_equal(l.v[2].name, "20261121T101500Z-1a2b3c4-2.tar.zst");
    assert_string_equal(l.v[3].name, "20270101T000000Z-aaaaaaa.tar.zst");
    backup_list_release(&l);
}

static void test_prune_keeps_the_newest(void **state)
{
    struct backup_list l = BACKUP_LIST_INIT;
    size_t idx[8], n;

    (void)state;
    add_entry(&l, "20260101T000000Z-aaaaaaa.tar.zst");
    add_entry(&l, "20260102T000000Z-aaaaaaa.tar.zst");
    add_entry(&l, "20260103T000000Z-aaaaaaa.tar.zst");
    add_entry(&l, "20260104T000000Z-aaaaaaa.tar.zst");
    bk_prune_select(&l, 2, NULL, idx, &n);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 1);
    bk_prune_select(&l, 0, NULL, idx, &n);
    assert_int_equal(n, 0); /* keep = 0 keeps everything */
    bk_prune_select(&l, 4, NULL, idx, &n);
    assert_int_equal(n, 0);
    bk_prune_select(&l, 9, NULL, idx, &n);
    assert_int_equal(n, 0);
    backup_list_release(&l);
}

static void test_prune_never_picks_the_protected_archive(void **state)
{
    struct backup_list l = BACKUP_LIST_INIT;
    size_t idx[8], n;

    (void)state;
    /* a clock that went backwards makes the new archive look oldest */
    add_entry(&l, "20250101T000000Z-bbbbbbb.tar.zst");
    add_entry(&l, "20260102T000000Z-aaaaaaa.tar.zst");
    add_entry(&l, "20260103T000000Z-aaaaaaa.tar.zst");
    bk_prune_select(&l, 1, "dir/prod/20250101T000000Z-bbbbbbb.tar.zst", idx, &n);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 2);
    backup_list_release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_has_utc_stamp_and_short_commit),
        cmocka_unit_test(test_name_without_commit_says_nogit),
        cmocka_unit_test(test_name_sequence_suffix_from_two),
        cmocka_unit_test(test_name_parse_round_trips),
        cmocka_unit_test(test_name_parse_rejects_other_files),
        cmocka_unit_test(test_part_names_are_six_digits_and_parse_back),
        cmocka_unit_test(test_entries_sort_by_time_then_sequence),
        cmocka_unit_test(test_prune_keeps_the_newest),
        cmocka_unit_test(test_prune_never_picks_the_protected_archive),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
