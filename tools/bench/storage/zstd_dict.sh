#!/usr/bin/env bash
# Measures trained zstd dictionaries on the compression units kq_segment_units wrote:
#
#   build/bin/kq_segment_units --input FILE --out DIR --rows K
#   tools/bench/storage/zstd_dict.sh DIR [LEVEL] [DICT_BYTES]
#
# Per column directory of DIR, a dictionary of at most DICT_BYTES (default 112640, zstd's
# default) is trained on the units of the first quarter of the segments (`zstd --train`), then
# the units of the other segments are compressed at LEVEL (default 1, the store's level) without
# and with it. Prints their bytes and the CPU seconds of both runs (the zstd CLI's, so a
# dictionary is loaded once per unit: an upper bound of its cost). Column 3 (auditID) and other
# UUID columns are stored packed (docs/format.md, "Compression codes"); here they are not.
set -euo pipefail

dir=${1:?usage: zstd_dict.sh DIR [LEVEL] [DICT_BYTES]}
level=${2:-1}
dict_bytes=${3:-112640}
command -v zstd >/dev/null || { echo "zstd_dict.sh: the zstd command is needed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cpu_seconds() {  # runs "$@" with stdout to /dev/null; prints its user+sys CPU seconds
  local t
  t=$( { /usr/bin/time -f "%U %S" "$@" >/dev/null; } 2>&1 | tail -1)
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.2f", a[1] + a[2] }'
}

printf "%-7s %6s %12s %12s %12s %8s %8s %8s\n" column units test-raw plain dict saved \
  cpu-plain cpu-dict
total_plain=0
total_dict=0
for col in $(ls "$dir" | sort -n); do
  mapfile -t files < <(ls "$dir/$col" | sort -t- -k1,1n -k2,2n)
  segments=$(printf "%s\n" "${files[@]}" | cut -d- -f1 | sort -un | wc -l)
  train_below=$(( (segments + 3) / 4 ))
  train=()
  test=()
  seq_rank=0
  last_seq=""
  for f in "${files[@]}"; do
    seq=${f%%-*}
    if [[ "$seq" != "$last_seq" ]]; then
      seq_rank=$((seq_rank + 1))
      last_seq=$seq
    fi
    if (( seq_rank <= train_below )); then train+=("$dir/$col/$f"); else test+=("$dir/$col/$f"); fi
  done
  (( ${#test[@]} > 0 )) || continue
  raw=$(cat "${test[@]}" | wc -c)
  plain=$(zstd -q -"$level" -c "${test[@]}" | wc -c)
  cpu_plain=$(cpu_seconds zstd -q -"$level" -c "${test[@]}")
  if zstd -q --train --maxdict="$dict_bytes" "${train[@]}" -o "$work/dict" 2>/dev/null; then
    with=$(zstd -q -"$level" -D "$work/dict" -c "${test[@]}" | wc -c)
    cpu_dict=$(cpu_seconds zstd -q -"$level" -D "$work/dict" -c "${test[@]}")
  else
    with=$plain  # too few or too small samples to train on
    cpu_dict=-
  fi
  total_plain=$((total_plain + plain))
  total_dict=$((total_dict + with))
  saved=$(awk -v p="$plain" -v d="$with" 'BEGIN { printf "%.1f%%", p ? 100 * (p - d) / p : 0 }')
  printf "%-7s %6d %12d %12d %12d %8s %8s %8s\n" "$col" "${#test[@]}" "$raw" "$plain" "$with" \
    "$saved" "$cpu_plain" "$cpu_dict"
done
awk -v p="$total_plain" -v d="$total_dict" \
  'BEGIN { printf "total: %d bytes plain, %d with dictionaries (%.1f%% saved)\n", p, d, 100 * (p - d) / p }'
