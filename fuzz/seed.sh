#!/usr/bin/env bash
# Builds the seed corpora in fuzz/corpus/<target>/ from the examples, the rule fixtures and
# the shared corpus (../shared/corpus beside the crate, or $SVCSCRUB_CORPUS). The corpus files
# are copied at run time and never committed: several carry no licence.
#
#   wise_parse: every script as it is;
#   reg_parse:  mode byte + file (0 = 8-bit as is, 1 = transcoded to UTF-16LE, 2 = behind a
#               UTF-16LE BOM: UTF-16 exports go in as their bytes after the BOM);
#   wix_parse:  mode byte + WiX source (0 = as is, 1 = transcoded to UTF-16LE);
#   msi_parse:  every database (.msi, .msm) as it is;
#   pipeline:   mode byte + the files of one directory joined by NUL bytes (UTF-16 files as
#               UTF-8 text with their "wide" bit set), with and without unsafe fixes.
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
crate="$(dirname "$fuzz")"
shared="${SVCSCRUB_CORPUS:-$crate/../shared/corpus}"
roots=("$crate/examples" "$crate/tests/fixtures")
if [ -d "$shared" ]; then
  roots+=("$shared")
else
  echo "seed.sh: no shared corpus at $shared; seeding from the examples and fixtures only" >&2
fi

for t in wise_parse reg_parse wix_parse msi_parse pipeline; do mkdir -p "$fuzz/corpus/$t"; done

is_utf16() { [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' \n')" = "fffe" ]; }
# A file's text as UTF-8 (UTF-16LE files decoded, others as they are).
text_of() {
  if is_utf16 "$1"; then tail -c +3 "$1" | iconv -f UTF-16LE -t UTF-8; else cat "$1"; fi
}
seed_name() { printf '%s' "$1" | cksum | cut -d' ' -f1; }

n=0
dirs=()
while IFS= read -r -d '' f; do
  name="$(seed_name "$f")"
  case "${f,,}" in
    *.wse | *.ipf | *.wse.in) cp "$f" "$fuzz/corpus/wise_parse/$name" ;;
    *.reg)
      if is_utf16 "$f"; then
        { printf '\002'; tail -c +3 "$f"; } >"$fuzz/corpus/reg_parse/$name"
      else
        { printf '\000'; cat "$f"; } >"$fuzz/corpus/reg_parse/$name"
        { printf '\001'; cat "$f"; } >"$fuzz/corpus/reg_parse/$name-w"
      fi
      ;;
    *.msi | *.msm)
      cp "$f" "$fuzz/corpus/msi_parse/$name"
      n=$((n + 1))
      continue
      ;;
    *.wxs | *.wxi | *.wxs.j2 | *.wix.in)
      { printf '\000'; cat "$f"; } >"$fuzz/corpus/wix_parse/$name"
      { printf '\001'; cat "$f"; } >"$fuzz/corpus/wix_parse/$name-w"
      n=$((n + 1))
      continue
      ;;
    *) continue ;;
  esac
  n=$((n + 1))
  dirs+=("$(dirname "$f")")
done < <(find "${roots[@]}" -type f \( -iname '*.wse' -o -iname '*.ipf' -o -iname '*.reg' -o -iname '*.wse.in' -o -iname '*.wxs' -o -iname '*.wxi' -o -iname '*.wxs.j2' -o -iname '*.wix.in' -o -iname '*.msi' -o -iname '*.msm' \) -print0 | sort -z)

# One pipeline seed per directory: its first three files in name order, safe and unsafe.
while IFS= read -r d; do
  mapfile -t files < <(find "$d" -maxdepth 1 -type f \( -iname '*.wse' -o -iname '*.ipf' -o -iname '*.reg' \) | sort | head -n 3)
  [ ${#files[@]} -gt 0 ] || continue
  mode=0
  for i in "${!files[@]}"; do
    if is_utf16 "${files[$i]}"; then mode=$((mode | (4 << i))); fi
  done
  for unsafe in 0 1; do
    out="$fuzz/corpus/pipeline/$(seed_name "$d")-$unsafe"
    {
      printf "\\$(printf '%03o' $((mode | unsafe)))"
      for i in "${!files[@]}"; do
        [ "$i" -gt 0 ] && printf '\000'
        text_of "${files[$i]}"
      done
    } >"$out"
  done
done < <(printf '%s\n' "${dirs[@]}" | sort -u)
echo "seed.sh: $n files seeded into $fuzz/corpus/{wise_parse,reg_parse,wix_parse,msi_parse,pipeline}"
