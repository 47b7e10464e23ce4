#!/usr/bin/env bats
# checks/foundation/compare.bats - scripts/compare.sh (`make compare`), in its quick mode
# (the same crash scenarios, throughput runs of up to 3,000 orders or 5 s instead of
# 20,000 or 10 s).
# About 35 s, broker up.
#
#   bats checks/foundation/compare.bats

setup_file() {
    load ../test_helper/common
    workbook_setup_file
    local t0=$SECONDS status=0
    "$ROOT/scripts/compare.sh" --quick -o "$BATS_FILE_TMPDIR/compare.md" >"$BATS_FILE_TMPDIR/compare.log" 2>&1 3>&- || status=$?
    echo "$status" >"$BATS_FILE_TMPDIR/compare.status"
    echo "$((SECONDS - t0))" >"$BATS_FILE_TMPDIR/compare.seconds"
}

setup() {
    load ../test_helper/common
}

# The cells of the main table's row for STRATEGY, one per line (without the name).
row_cells() {
    awk -F'|' -v name="$2" '
        /^## / { exit }
        { n = $2; gsub(/^ +| +$/, "", n) }
        n == name { for (i = 3; i < NF; i++) { c = $i; gsub(/^ +| +$/, "", c); print c }; exit }' "$1"
}

@test "compare: runs in well under 2 minutes and exits 0" {
    note "compare.sh --quick took $(cat "$BATS_FILE_TMPDIR/compare.seconds") s"
    [ "$(cat "$BATS_FILE_TMPDIR/compare.status")" = 0 ] || fail "compare.sh exited $(cat "$BATS_FILE_TMPDIR/compare.status"): $(cat "$BATS_FILE_TMPDIR/compare.log")"
    [ "$(cat "$BATS_FILE_TMPDIR/compare.seconds")" -le 120 ] || fail "it took $(cat "$BATS_FILE_TMPDIR/compare.seconds") s"
    run cat "$BATS_FILE_TMPDIR/compare.log"
    assert_output --partial "compare: [slow] Auto-commit: crashed"
    assert_output --partial "compare: [throughput] Batch commit:"
    assert_output --partial "compare: [slow] Exactly once: transactions: crashed"
    assert_output --partial "compare: [throughput] Exactly once: transactions:"
    assert_output --partial "written to $BATS_FILE_TMPDIR/compare.md"
    refute_output --partial "Warnings:"
}

@test "compare: the table has the seed's columns and a row per strategy, printed and written" {
    run cat "$BATS_FILE_TMPDIR/compare.log"
    assert_output --regexp '\| Strategy +\| Message loss ¹ +\| Duplicates ² +\| Commits ³ +\| Throughput ⁴ +\| Use case +\|'
    for s in "Auto-commit" "Per-message commit" "Batch commit" "Exactly once: transactions ⁵"; do
        assert_output --regexp "\| $s +\| slow [0-9]+ · fast [0-9]+ +\|"
    done
    run cat "$BATS_FILE_TMPDIR/compare.md"
    assert_line --partial "| Strategy "
    assert_output --partial "## Details"
    assert_output --partial "## How it was measured"
    assert_output --partial "librdkafka"
    assert_output --partial "cores"
}

@test "compare: every cell holds measured numbers" {
    for s in "Auto-commit" "Per-message commit" "Batch commit"; do
        mapfile -t c < <(row_cells "$BATS_FILE_TMPDIR/compare.md" "$s")
        [ "${#c[@]}" -eq 5 ] || fail "row $s: expected 5 cells, got ${#c[@]}: ${c[*]}"
        [[ "${c[0]}" =~ ^slow\ [0-9]+\ ·\ fast\ [0-9]+$ ]] || fail "$s, message loss: '${c[0]}'"
        [[ "${c[1]}" =~ ^slow\ [0-9]+\ \([0-9]+\ twice\)\ ·\ fast\ [0-9]+\ \([0-9]+\ twice\)$ ]] || fail "$s, duplicates: '${c[1]}'"
        [[ "${c[2]}" =~ ^[0-9,]+\ for\ [1-9][0-9,]*\ msgs$ ]] || fail "$s, commits: '${c[2]}'"
        [[ "${c[3]}" =~ ^[0-9,]+\ msg/s$ ]] || fail "$s, throughput: '${c[3]}'"
    done
}

@test "compare: per-message and batch commits lose nothing; their commit counts follow the strategy" {
    mapfile -t c < <(row_cells "$BATS_FILE_TMPDIR/compare.md" "Per-message commit")
    assert_equal "${c[0]}" "slow 0 · fast 0"
    # One commit per message, however many the time allowed.
    [[ "${c[2]}" =~ ^([0-9,]+)\ for\ ([0-9,]+)\ msgs$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
        fail "per-message commits: ${c[2]} (one per message)"
    # Only the order in hand at the crash comes again; it was not processed twice.
    assert_equal "${c[1]}" "slow 1 (0 twice) · fast 1 (0 twice)"
    mapfile -t c < <(row_cells "$BATS_FILE_TMPDIR/compare.md" "Batch commit")
    assert_equal "${c[0]}" "slow 0 · fast 0"
    [[ "${c[1]}" =~ ^slow\ [1-5]\ \(0\ twice\)\ ·\ fast\ [1-5]\ \(0\ twice\)$ ]] || fail "batch duplicates: '${c[1]}' (only the batch in hand, up to 5)"
    n=$(echo "${c[2]}" | sed 's/ for.*//; s/,//g') m=$(echo "${c[2]}" | sed 's/.* for //; s/ msgs//; s/,//g')
    [ "$n" -ge $(( (m + 4) / 5 )) ] && [ "$n" -lt "$m" ] || fail "batch commits: ${c[2]} (one per batch of up to 5)"
    mapfile -t c < <(row_cells "$BATS_FILE_TMPDIR/compare.md" "Auto-commit")
    n=$(echo "${c[2]}" | sed 's/ for.*//; s/,//g')
    [ "$n" -lt 10 ] || fail "auto-commit commits: ${c[2]} (a timer every 3 s, and one at close)"
}

@test "compare: the transactions row (step 09) counts invoices: none lost, none a read_committed reader sees twice, one transaction per batch" {
    mapfile -t c < <(row_cells "$BATS_FILE_TMPDIR/compare.md" "Exactly once: transactions ⁵")
    [ "${#c[@]}" -eq 5 ] || fail "row Exactly once: transactions: expected 5 cells, got ${#c[@]}: ${c[*]}"
    assert_equal "${c[0]}" "slow 0 · fast 0"
    # What read_committed sees twice: nothing; in brackets what read_uncommitted sees twice
    # (the invoices of the transaction the crash left open, if they reached the broker).
    [[ "${c[1]}" =~ ^slow\ 0\ \([0-9]+\ uncommitted\)\ ·\ fast\ 0\ \([0-9]+\ uncommitted\)$ ]] ||
        fail "transactions, duplicates: '${c[1]}' (want slow 0 (N uncommitted) · fast 0 (N uncommitted))"
    [[ "${c[2]}" =~ ^([0-9,]+)\ transactions\ for\ ([1-9][0-9,]*)\ msgs$ ]] || fail "transactions, commits: '${c[2]}'"
    n=${BASH_REMATCH[1]//,/} m=${BASH_REMATCH[2]//,/}
    [ "$n" -ge $(( (m + 4) / 5 )) ] && [ "$n" -le "$m" ] || fail "transactions: ${c[2]} (one per batch of up to 5)"
    [[ "${c[3]}" =~ ^[0-9,]+\ msg/s$ ]] || fail "transactions, throughput: '${c[3]}'"
    # The footnote says what the row's columns count, printed and written.
    run cat "$BATS_FILE_TMPDIR/compare.md"
    assert_output --partial "⁵ Transactions (step 09) write an invoice per order to another topic"
    assert_output --partial "read_uncommitted reader, which also sees what aborted transactions wrote"
    run cat "$BATS_FILE_TMPDIR/compare.log"
    assert_output --partial "⁵ Transactions (step 09)"
}

@test "compare: a failure stays in one cell of one line" {
    # A failed run's reason, however many lines it had, must not break the table.
    run bash -c "source <(sed -n '/^oneline()/p' '$ROOT/scripts/compare.sh'); printf 'exited 124: a\nb|c\n' | oneline"
    assert_output "exited 124: a b/c"
}

@test "compare: usage errors exit 2" {
    run -2 "$ROOT/scripts/compare.sh" --bogus
    assert_output --partial "Usage: scripts/compare.sh"
    run -2 "$ROOT/scripts/compare.sh" -o
}
