#!/usr/bin/env bash
# Fuzz smoke run: builds every target of fuzz/Cargo.toml and runs each for N seconds (default
# 10; the first argument overrides) on a temporary copy of its committed seeds, so the run never
# adds files to git. Exits non-zero if any target crashes, times out or runs out of memory; the
# input that did it is kept under fuzz/artifacts/<target>/ (see README.md for what to do next).
#
# Works on the stable toolchain alone: no sanitizer (`-s none`), with debug assertions and
# overflow checks on (`-a`). Installs cargo-fuzz from crates.io if it is missing.
#
#   bash fuzz/smoke.sh        # CI: ~10 s per target after the release build
#   bash fuzz/smoke.sh 60     # a longer local run
set -euo pipefail

seconds="${1:-10}"
if ! [[ "${seconds}" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [seconds-per-target]" >&2
    exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")"

# The version this harness was checked with; any later 0.13 works the same way.
cargo_fuzz_version="0.13.2"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "=== installing cargo-fuzz ${cargo_fuzz_version}"
    cargo install cargo-fuzz --locked --version "${cargo_fuzz_version}"
fi

started=$(date +%s)
echo "=== building the fuzz targets (release, -s none, debug assertions on)"
cargo fuzz build -s none -a
built=$(date +%s)

triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="target/${triple}/release"
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

failed=()
for target in $(cargo fuzz list); do
    corpus="${work}/corpus/${target}"
    mkdir -p "${corpus}" "artifacts/${target}"
    cp corpus/"${target}"/* "${corpus}/"
    if [[ -d "tests/regressions/${target}" ]]; then
        cp tests/regressions/"${target}"/* "${corpus}/"
    fi
    log="${work}/${target}.log"
    # -timeout: an input slower than this is a denial-of-service bug, reported like a crash.
    if "${bin_dir}/${target}" \
        -max_total_time="${seconds}" \
        -timeout=20 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        -artifact_prefix="artifacts/${target}/" \
        "${corpus}" >"${log}" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "${log}")
        cov=$(grep -o 'cov: [0-9]*' "${log}" | tail -n 1)
        printf '%-26s ok   %9s runs %7s/s  %s\n' "${target}" "${runs:-?}" "${rate:-?}" "${cov}"
    else
        failed+=("${target}")
        printf '%-26s FAILED\n' "${target}"
        tail -n 80 "${log}"
    fi
done

finished=$(date +%s)
echo "=== build $((built - started)) s, fuzzing $((finished - built)) s, total $((finished - started)) s"
if ((${#failed[@]} > 0)); then
    echo "crashed: ${failed[*]}; inputs in fuzz/artifacts/<target>/ (see fuzz/README.md)" >&2
    exit 1
fi
