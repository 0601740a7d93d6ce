#!/usr/bin/env bash
# The "last file against 200,000-row tables" case of bench/lint: per corpus set, every file
# but the last is applied to a scratch database, every table the last file names is filled with
# 200,000 rows and analyzed, and then the last file is linted by `dbdeploy lint ENV LASTFILE`
# (with the database's table sizes) and by squawk (without). Prints each linter's lock findings.
# Counts only, no timing (bench/lint/run.sh times the whole corpus).
#
#   bench/lint/last-file.sh
#
# A throwaway PostgreSQL cluster is started with tests/support/pg.sh and removed at the end.
# "Tables the last file names": tables of the scratch database whose name occurs in the file as
# a word (a generous reading: a name in a comment counts too). Filling is generic: one
# INSERT ... SELECT FROM generate_series(1, 200000) per table, a value for each column that is
# NOT NULL without a default or in a unique index (by type: numbers, text, booleans, dates,
# uuid, json, enums, arrays), defaults elsewhere, foreign keys and triggers off
# (session_replication_role = replica). A table that still refuses the rows (a CHECK, a short
# varchar, an unknown type) is skipped and named.
#
# Environment: DBDEPLOY_BIN, DD_CORPUS, DD_BENCH_CACHE as for run.sh (squawk is installed there
# by run.sh or here); DD_BENCH_ROWS (default 200000).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${DBDEPLOY_BIN:-$root/build/src/dbdeploy}
corpus=${DD_CORPUS:-$root/../shared/corpus}
cache=${DD_BENCH_CACHE:-${TMPDIR:-/tmp}/dbdeploy-bench-lint}
rows=${DD_BENCH_ROWS:-200000}
squawk_version=2.66.0
read -r -a sets <<<"${DD_BENCH_SETS:-openmeter pocket-id lakefs svix rauthy ftl}"

[[ -x "$bin" ]] || { echo "error: no dbdeploy binary at '$bin'" >&2; echo "hint: Build it first, or set DBDEPLOY_BIN." >&2; exit 2; }
[[ -d "$corpus" ]] || { echo "error: no corpus at '$corpus'" >&2; echo "hint: Set DD_CORPUS." >&2; exit 2; }
command -v jq >/dev/null || { echo "error: jq is needed" >&2; exit 2; }

squawk=$cache/node_modules/@squawk-cli/linux-x64/bin/squawk
if [[ ! -x "$squawk" ]] || [[ "$("$squawk" --version)" != "squawk $squawk_version" ]]; then
  command -v npm >/dev/null || { echo "error: npm is needed to install squawk" >&2; exit 2; }
  mkdir -p "$cache"
  (cd "$cache" && npm install --no-audit --no-fund --silent "squawk-cli@$squawk_version" >&2)
fi

export DBDEPLOY_BUILD_DIR=${DBDEPLOY_BUILD_DIR:-$root/build}
export DD_PG_TEMPLATE_DIR=${DD_PG_TEMPLATE_DIR:-$DBDEPLOY_BUILD_DIR/pg-template/data}
# shellcheck source=../../tests/support/pg.sh
source "$root/tests/support/pg.sh"
DD_PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-bench-last.XXXXXX")
export DD_PG_TMP
trap 'pg_stop_all; [[ -n "${DD_BENCH_KEEP:-}" ]] || rm -rf "$DD_PG_TMP"' EXIT
pg_start bench >/dev/null
export PGHOST=$DD_PG_TMP/pg-bench/sock PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
export PATH="$(pg_bindir):$PATH"

# pg_temp.bench_fill(table, rows): 'ok' or why the table could not be filled
fill_fn=$(cat <<'SQL'
CREATE FUNCTION pg_temp.bench_fill(t regclass, n int) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  cols text := ''; vals text := ''; c record; v text;
BEGIN
  FOR c IN
    SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS ty, ty.typcategory AS cat,
           ty.typname, ty.typtype
    FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
    WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = ''
      AND NOT EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = t AND d.adnum = a.attnum)
      AND (a.attnotnull OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t AND i.indisunique
                                   AND a.attnum = ANY (i.indkey)))
    ORDER BY a.attnum
  LOOP
    v := CASE
      WHEN c.typname = 'uuid' THEN 'gen_random_uuid()'
      WHEN c.typname IN ('json', 'jsonb') THEN format('jsonb_build_object(''n'', g)::%s', c.ty)
      WHEN c.typname IN ('int2') THEN '(g % 32000)::int2'
      WHEN c.cat = 'N' THEN format('g::%s', c.ty)
      WHEN c.cat = 'S' THEN format('(''v'' || g)::%s', c.ty)
      WHEN c.cat = 'B' THEN '(g % 2 = 0)'
      WHEN c.cat = 'D' THEN format('(timestamptz ''2024-01-01'' + g * interval ''1 second'')::%s', c.ty)
      WHEN c.cat = 'T' THEN format('(g * interval ''1 second'')::%s', c.ty)
      WHEN c.cat = 'A' THEN format('''{}''::%s', c.ty)
      WHEN c.typtype = 'e' THEN format('(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = %s '
                                       'ORDER BY e.enumsortorder LIMIT 1)::%s', c.atttypid, c.ty)
      WHEN c.typname = 'bytea' THEN 'int4send(g)'
      WHEN c.typname = 'inet' THEN '(''10.0.0.0''::inet + g)'
      ELSE NULL END;
    IF v IS NULL THEN
      RETURN format('column %s has type %s, for which there is no generic value', c.attname, c.ty);
    END IF;
    cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END || quote_ident(c.attname);
    vals := vals || CASE WHEN vals = '' THEN '' ELSE ', ' END || v;
  END LOOP;
  BEGIN
    IF cols = '' THEN -- every column has a default or may be NULL
      EXECUTE format('INSERT INTO %s SELECT FROM generate_series(1, %s) g', t, n);
    ELSE
      EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM generate_series(1, %s) g', t, cols, vals, n);
    END IF;
  EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
  END;
  RETURN 'ok';
END $f$;
SQL
)
work=$DD_PG_TMP/work
mkdir -p "$work"
printf '%-10s %-58s %7s %7s %9s %9s\n' set "last file" tables filled "squawk" "dbdeploy"
echo "(tables: named by the last file; filled: with $rows rows; squawk, dbdeploy: lock findings)"
notes=()
tot_sq=0 tot_dd=0
for s in "${sets[@]}"; do
  db=bench_${s//-/_}
  createdb "$db"
  url="postgresql:///$db?host=$PGHOST&port=$PGPORT&user=postgres"
  proj=$work/$s
  mkdir -p "$proj/migrations" "$proj/pipeline"
  cp "$corpus/$s"/migrations/* "$proj/migrations/"
  printf '[database]\n\turl = %s\n' "$url" >"$proj/pipeline/bench.conf"
  git -C "$proj" init -q -b main
  git -C "$proj" add -A
  git -C "$proj" -c user.name=bench -c user.email=bench@localhost commit -q -m "import $s"
  # the pending migrations, oldest first: everything but the last is applied
  plan=$("$bin" -C "$proj" --json apply bench --dry-run 2>/dev/null)
  prev=$(jq -r '.pending[-2].version' <<<"$plan")
  last=$(jq -r '.pending[-1].file' <<<"$plan")
  "$bin" -C "$proj" -q apply bench --to "$prev" >/dev/null
  # tables of the database whose name the last file mentions
  mapfile -t named < <(psql -X -At -d "$db" -c "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename), tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'dbdeploy') ORDER BY 1" |
    while IFS='|' read -r qname name; do
      grep -qiwF -- "$name" "$proj/$last" && echo "$qname"
    done)
  filled=0
  for t in "${named[@]}"; do
    r=$(psql -X -At -v ON_ERROR_STOP=1 -d "$db" <<SQL
SET client_min_messages = warning;
SET session_replication_role = replica;
$fill_fn
SELECT pg_temp.bench_fill('$t', $rows);
SQL
)
    r=${r##*$'\n'}
    if [[ "$r" == ok ]]; then
      filled=$((filled + 1))
    else
      notes+=("$s: $t skipped: $r")
    fi
  done
  psql -X -q -d "$db" -c "ANALYZE" >/dev/null
  # lock findings: dbdeploy's lock-class rules; squawk's lock rules (its names differ)
  json=$("$bin" -C "$proj" lint --json bench "$last" 2>"$work/$s.lint.err" || true)
  [[ -n "$json" ]] || { cat "$work/$s.lint.err" >&2; exit 1; }
  dd=$(jq '[.findings[] | select(.rule | test("concurrently|not-valid|alter-column-type|set-not-null|volatile-default|unique-without-index|lock-table|vacuum-full|cluster"))] | length' <<<"$json")
  sq=$(cd "$proj" && "$squawk" --reporter=gcc "$last" 2>/dev/null | grep -cE 'require-concurrent-index-(creation|deletion)|constraint-missing-not-valid|changing-column-type|adding-not-nullable-field|adding-field-with-default|disallowed-unique-constraint|adding-required-field|adding-foreign-key-constraint|adding-serial-primary-key-field' || true)
  printf '%-10s %-58s %7d %7d %9d %9d\n' "$s" "$last" "${#named[@]}" "$filled" "$sq" "$dd"
  jq -r '.findings[] | "    dbdeploy: \(.file):\(.line): \(.rule): \(.message)"' <<<"$json"
  (cd "$proj" && "$squawk" --reporter=gcc "$last" 2>/dev/null | grep -E ':[0-9]+:[0-9]+: (error|warning)' | sed 's/^/    squawk:   /') || true
  tot_sq=$((tot_sq + sq)) tot_dd=$((tot_dd + dd))
done
printf '%-10s %-58s %7s %7s %9d %9d\n' total "" "" "" "$tot_sq" "$tot_dd"
for n in "${notes[@]}"; do echo "note: $n"; done
