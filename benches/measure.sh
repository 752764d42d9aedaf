#!/usr/bin/env bash
# Whole-process measurements behind BENCHMARKS.md: generates the inputs of every shape, then
# times svcscrub, `wc -l` and a naive Python line scan on them in one hyperfine run per
# shape, and records peak RSS.
#
#   bash benches/measure.sh [DIR]              # DIR defaults to /tmp/svcscrub-bench
#   SHAPES="items reg" bash benches/measure.sh # only these shapes (names below)
#   RUNS=5 bash benches/measure.sh             # runs per command (default 10; 3 for `examples`)
#   BIN=/path/to/svcscrub bash benches/measure.sh  # another build (nothing is compiled)
#
# Needs hyperfine (apt-get install hyperfine), python3 and GNU time (/usr/bin/time). Inputs
# made of real items are built from the project's examples and the shared corpus
# (../shared/corpus or ../../shared/corpus) when the script runs; nothing is copied into the
# project.
set -euo pipefail
dir=${1:-/tmp/svcscrub-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --manifest-path "$root/Cargo.toml" --example gen >&2
if [ -z "${BIN:-}" ]; then
    cargo build --release --manifest-path "$root/Cargo.toml" --bin svcscrub >&2
fi
bin=${BIN:-$root/target/release/svcscrub}
gen=$root/target/release/examples/gen
runs=${RUNS:-10}
shapes=${SHAPES:-script reg findings findings-reg items corpus services examples packages example-packages}
corpus=""
for c in "$root/../shared/corpus" "$root/../../shared/corpus"; do
    [ -d "$c/wise" ] && corpus=$(cd "$c" && pwd) && break
done

mkdir -p "$dir"
cd "$dir"

# --- Inputs: one package per directory, so no file is read as another's context. ----------
# Every shape has an input and one 4x its size (for scaling), `NAME-1x` and `NAME-4x`.
input() { # input NAME-SIZE KIND MB [ARGS...]: generate once
    local name=$1 kind=$2 mb=$3
    shift 3
    [ -e "$name" ] && return
    mkdir -p "$name"
    case $kind in
        script|findings) "$gen" "$kind" "$mb" "$name/big.ipf" >&2 ;;
        reg|findings-reg) "$gen" "$kind" "$mb" "$name/big.reg" >&2 ;;
        items) "$gen" items "$mb" "$name/big.ipf" "$@" >&2
               # The script the include-driver example includes, found as it is there.
               if [[ " $* " == *include-driver* ]]; then
                   cp -r "$root/examples/include-driver/drivers" "$name/"
               fi ;;
        services) "$gen" services "$mb" "$name" >&2 ;;
        packages) "$gen" packages "$mb" "$name" >&2 ;;
        example-packages) # $mb copies of each example package directory
            for i in $(seq -w 1 "$mb"); do
                for p in "$root"/examples/*/; do
                    case $(basename "$p") in gen) continue ;; esac
                    cp -r "$p" "$name/$(basename "$p")-$i"
                done
            done ;;
    esac
}
# The scripts of the examples (the one include-driver includes is copied beside them).
example_scripts=("$root"/examples/*/setup.*)
# The corpus's scripts that are read as scripts (not the binary one, not the one with junk
# before its header).
corpus_scripts=()
if [ -n "$corpus" ]; then
    for f in "$corpus"/wise/*.wse "$corpus"/wise/*.ipf; do
        case $f in *BINARY*|*junk*) continue ;; esac
        corpus_scripts+=("$f")
    done
fi
for shape in $shapes; do
    case $shape in
        script) input script-1x script 15; input script-4x script 60 ;;
        reg) input reg-1x reg 25; input reg-4x reg 100 ;;
        findings) input findings-1x findings 7.5; input findings-4x findings 30 ;;
        findings-reg) input findings-reg-1x findings-reg 25; input findings-reg-4x findings-reg 100 ;;
        items) input items-1x items 25 "$root/examples/norton-antivirus/setup.ipf"
               input items-4x items 100 "$root/examples/norton-antivirus/setup.ipf" ;;
        corpus) [ ${#corpus_scripts[@]} -gt 0 ] || { echo "no corpus found; skipping" >&2; continue; }
                input corpus-1x items 25 "${corpus_scripts[@]}"
                input corpus-4x items 100 "${corpus_scripts[@]}" ;;
        services) input services-1x services 15; input services-4x services 60 ;;
        examples) input examples-1x items 125 "${example_scripts[@]}"
                  input examples-4x items 500 "${example_scripts[@]}" ;;
        packages) input packages-1x packages 500; input packages-4x packages 2000 ;;
        example-packages) input example-packages-1x example-packages 100
                          input example-packages-4x example-packages 400 ;;
    esac
done

# The naive scan: every line that names a Services key, in a file or under a directory.
cat > "$dir/scan.py" <<'EOF'
import os, sys

def scan(path):
    enc = "utf-16" if open(path, "rb").read(2) == b"\xff\xfe" else "latin-1"
    hits = 0
    with open(path, encoding=enc, newline="") as f:
        for line in f:
            if "\\Services\\" in line:
                hits += 1
    return hits

hits = 0
for arg in sys.argv[1:]:
    if os.path.isdir(arg):
        for d, _, names in sorted(os.walk(arg)):
            for name in sorted(names):
                hits += scan(os.path.join(d, name))
    else:
        hits += scan(arg)
print(hits)
EOF

echo "## machine"
echo "nproc: $(nproc)"
grep -m1 'model name' /proc/cpuinfo
echo "binary: $bin"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# What a command names: the file of a one-file shape, the directory of a package shape.
target_of() {
    if [ -f "$1/big.ipf" ]; then echo "$1/big.ipf"
    elif [ -f "$1/big.reg" ]; then echo "$1/big.reg"
    else echo "$1"; fi
}
# Every file under a target, for `wc -l` (which reads files, not directories).
files_of() { if [ -f "$1" ]; then echo "$1"; else find "$1" -type f | sort | tr '\n' ' '; fi; }
bytes_of() { if [ -f "$1" ]; then stat -c %s "$1"; else du -sb --apparent-size "$1" | cut -f1; fi; }
rss_of() { # peak RSS in KiB of svcscrub ARGS...
    /usr/bin/time -f '%M' -o "$dir/rss.txt" "$bin" "$@" --no-config -q >/dev/null 2>&1 || true
    tail -1 "$dir/rss.txt"
}

# One hyperfine run per shape: check (full report, the default), check --format concise, fix
# --diff, the floors, and check/fix on the input 4x smaller; then peak RSS of check and fix.
measure_shape() {
    local shape=$1 r=$runs
    [ -d "$shape-4x" ] || return 0
    [ "$shape" = examples ] && r=${RUNS_LARGE:-3}
    local big small
    big=$(target_of "$shape-4x")
    small=$(target_of "$shape-1x")
    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    hyperfine -N -i -w 1 -r "$r" --export-json "$dir/hf-$shape.json" \
        -n check "$bin check --no-config -q $big" \
        -n concise "$bin check --no-config -q --format concise $big" \
        -n fix "$bin fix --diff --no-config -q $big" \
        -n wc "wc -l $(files_of "$big")" \
        -n scan "python3 $dir/scan.py $big" \
        -n check-1x "$bin check --no-config -q $small" \
        -n fix-1x "$bin fix --diff --no-config -q $small" >/dev/null 2>&1
    local rss_check rss_fix findings
    rss_check=$(rss_of check "$big")
    rss_fix=$(rss_of fix --diff "$big")
    findings=$("$bin" check --no-config -q --format concise "$big" 2>/dev/null | wc -l || true)
    python3 - "$dir/hf-$shape.json" "$shape" "$(bytes_of "$big")" "$rss_check" "$rss_fix" \
        "$findings" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
path, shape, size, rss_check, rss_fix, findings, load0, load1 = sys.argv[1:]
size, rss_check, rss_fix = int(size), int(rss_check) * 1024, int(rss_fix) * 1024
r = {x["command"]: x for x in json.load(open(path))["results"]}
med = lambda k: r[k]["median"] * 1000
cpu = lambda k: (r[k]["user"] + r[k]["system"]) * 1000
print(f"### {shape}: {size / 1e6:.1f} MB, {findings.strip()} findings (load {load0} -> {load1})")
print()
print("| command | mean | median | min | user+sys |")
print("|---|---:|---:|---:|---:|")
for k, x in r.items():
    print(f"| {k} | {x['mean']*1000:.0f} | {med(k):.0f} | {x['min']*1000:.0f} | {cpu(k):.0f} |")
limit = 2 * size + 64 * 2**20
print()
print(f"| shape | check | concise | fix --diff | wc -l | scan | check / wc | scan / check | fix / check | 4x: check, fix | RSS check | RSS fix |")
print(f"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {shape} | {med('check'):.0f} | {med('concise'):.0f} | {med('fix'):.0f} | {med('wc'):.0f} | {med('scan'):.0f} "
      f"| {med('check') / med('wc'):.1f}x | {med('scan') / med('check'):.1f}x | {med('fix') / med('check'):.2f}x "
      f"| {med('check') / med('check-1x'):.2f}x, {med('fix') / med('fix-1x'):.2f}x "
      f"| {rss_check / size:.2f}x{'' if rss_check <= limit else ' (over)'} | {rss_fix / size:.2f}x{'' if rss_fix <= limit else ' (over)'} |")
print()
PY
}

for shape in $shapes; do
    measure_shape "$shape"
done

# --- Details kept from earlier rounds ---------------------------------------------------
# Wall time (mean, median, min) and CPU time (user + system, mean) per command, in ms.
hf() {
    hyperfine -N -i -w 1 -r "$runs" --export-json "$dir/hf.json" "$@" >/dev/null 2>&1
    python3 - "$dir/hf.json" <<'PY'
import json, sys
print("| command | mean | median | min | user+sys |")
print("|---|---:|---:|---:|---:|")
for r in json.load(open(sys.argv[1]))["results"]:
    ms = lambda s: f"{s * 1000:.0f}"
    print(f"| {r['command']} | {ms(r['mean'])} | {ms(r['median'])} | {ms(r['min'])} | {ms(r['user'] + r['system'])} |")
PY
}
if [ -d findings-4x ] && [[ " $shapes " == *" findings "* ]]; then
    echo "## report formats on many findings"
    hf -n "check full" "$bin check --no-config -q findings-4x/big.ipf" \
       -n "check concise" "$bin check --no-config -q --format concise findings-4x/big.ipf" \
       -n "check json" "$bin check --no-config -q --format json findings-4x/big.ipf"
    strace -f -e trace=write -o "$dir/strace.txt" "$bin" check --no-config -q findings-4x/big.ipf >/dev/null 2>&1 || true
    echo "write calls to stdout for the full report: $(grep -c 'write(1,' "$dir/strace.txt" || true)"
fi
if [ -d packages-4x ] && [[ " $shapes " == *" packages "* ]]; then
    echo "## 2000 packages, one and two threads"
    hf -n "check -j1" "$bin check --no-config -q -j1 packages-4x" \
       -n "check -j2" "$bin check --no-config -q -j2 packages-4x" \
       -n "fix --diff -j1" "$bin fix --diff --no-config -q -j1 packages-4x" \
       -n "fix --diff -j2" "$bin fix --diff --no-config -q -j2 packages-4x"
fi
# `fix` writing in place (with --backup) works on a copy, one package per directory.
for file in script-4x/big.ipf reg-4x/big.reg; do
    [ -f "$file" ] || continue
    rm -rf "$dir/in-place" && mkdir -p "$dir/in-place" && cp "$file" "$dir/in-place/"
    copy="$dir/in-place/$(basename "$file")"
    /usr/bin/time -f '%M' -o "$dir/rss.txt" "$bin" fix --backup --no-config -q "$copy" >/dev/null 2>&1 || true
    echo "fix --backup (in place) $file: $(tail -1 "$dir/rss.txt") KB peak, $(stat -c %s "$file") bytes input"
done
rm -rf "$dir/in-place"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
