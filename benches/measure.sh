#!/usr/bin/env bash
# Whole-process measurements behind BENCHMARKS.md: generates the inputs, then times svcscrub,
# `wc -l` and a naive Python line scan on them with hyperfine, and records peak RSS.
#
#   bash benches/measure.sh [DIR]        # DIR defaults to /tmp/svcscrub-bench
#
# Needs hyperfine (apt-get install hyperfine), python3 and GNU time (/usr/bin/time).
set -euo pipefail
dir=${1:-/tmp/svcscrub-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --manifest-path "$root/Cargo.toml" --bin svcscrub --example gen >&2
bin=$root/target/release/svcscrub
gen=$root/target/release/examples/gen
runs=${RUNS:-10}

# One package per directory, so no file is read as another's context.
mkdir -p "$dir"/{s15,s60,f30,r25,r100}
[ -f "$dir/s15/big.ipf" ] || "$gen" script 15 "$dir/s15/big.ipf" >&2
[ -f "$dir/s60/big.ipf" ] || "$gen" script 60 "$dir/s60/big.ipf" >&2
[ -f "$dir/f30/many.ipf" ] || "$gen" findings 30 "$dir/f30/many.ipf" >&2
[ -f "$dir/r25/big.reg" ] || "$gen" reg 25 "$dir/r25/big.reg" >&2
[ -f "$dir/r100/big.reg" ] || "$gen" reg 100 "$dir/r100/big.reg" >&2
[ -d "$dir/pk2000" ] || "$gen" packages 2000 "$dir/pk2000" >&2

# The naive scan: every line that names a Services key.
cat > "$dir/scan.py" <<'EOF'
import sys
path = sys.argv[1]
enc = "utf-16" if open(path, "rb").read(2) == b"\xff\xfe" else "latin-1"
hits = 0
with open(path, encoding=enc, newline="") as f:
    for line in f:
        if "\\Services\\" in line:
            hits += 1
print(hits)
EOF

echo "## machine"
echo "nproc: $(nproc)"
grep -m1 'model name' /proc/cpuinfo
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

cd "$dir"
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
echo "## scripts"
hf -n "check 15 MB" "$bin check --no-config -q s15/big.ipf" \
   -n "check 60 MB" "$bin check --no-config -q s60/big.ipf" \
   -n "fix --diff 15 MB" "$bin fix --diff --no-config -q s15/big.ipf" \
   -n "fix --diff 60 MB" "$bin fix --diff --no-config -q s60/big.ipf" \
   -n "check -j1 60 MB" "$bin check --no-config -q -j1 s60/big.ipf" \
   -n "wc -l 60 MB" "wc -l s60/big.ipf" \
   -n "python scan 60 MB" "python3 scan.py s60/big.ipf"
echo "## .reg (UTF-16)"
hf -n "check 25 MB" "$bin check --no-config -q r25/big.reg" \
   -n "check 100 MB" "$bin check --no-config -q r100/big.reg" \
   -n "fix --diff 100 MB" "$bin fix --diff --no-config -q r100/big.reg" \
   -n "wc -l 100 MB" "wc -l r100/big.reg" \
   -n "python scan 100 MB" "python3 scan.py r100/big.reg"
echo "## many findings ($("$bin" check --no-config --format concise f30/many.ipf | wc -l) findings)"
hf -n "check full" "$bin check --no-config -q f30/many.ipf" \
   -n "check concise" "$bin check --no-config -q --format concise f30/many.ipf" \
   -n "check json" "$bin check --no-config -q --format json f30/many.ipf"
strace -f -e trace=write -o "$dir/strace.txt" "$bin" check --no-config -q f30/many.ipf >/dev/null 2>&1 || true
echo "write calls to stdout for the full report: $(grep -c 'write(1,' "$dir/strace.txt")"
echo "## 2000 packages"
hf -n "check -j1" "$bin check --no-config -q -j1 pk2000" \
   -n "check -j2" "$bin check --no-config -q -j2 pk2000" \
   -n "fix --diff -j1" "$bin fix --diff --no-config -q -j1 pk2000" \
   -n "fix --diff -j2" "$bin fix --diff --no-config -q -j2 pk2000"
echo "## peak RSS (KB), input size (bytes)"
for args in "check s60/big.ipf" "fix --diff s60/big.ipf" "check r100/big.reg" "fix --diff r100/big.reg"; do
    set -- $args
    file=${!#}
    /usr/bin/time -f '%M' -o "$dir/rss.txt" "$bin" $args --no-config -q >/dev/null 2>&1 || true
    rss=$(tail -1 "$dir/rss.txt")
    echo "$args: $rss KB peak, $(stat -c %s "$file") bytes input"
done
# `fix` writing in place (with --backup) works on a copy, one package per directory.
for file in s60/big.ipf r100/big.reg; do
    rm -rf "$dir/in-place" && mkdir -p "$dir/in-place" && cp "$file" "$dir/in-place/"
    copy="$dir/in-place/$(basename "$file")"
    /usr/bin/time -f '%M' -o "$dir/rss.txt" "$bin" fix --backup --no-config -q "$copy" >/dev/null 2>&1 || true
    echo "fix --backup (in place) $file: $(tail -1 "$dir/rss.txt") KB peak, $(stat -c %s "$file") bytes input"
done
rm -rf "$dir/in-place"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
