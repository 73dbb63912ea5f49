#!/usr/bin/env bash
# samecheck.sh [BASE]: the outputs of the working tree's tlsscope against
# those of commit BASE (default: origin/main or main), byte for byte, on every
# capture of testdata/pcaps and ../shared/corpus (or $TLSSCOPE_CORPUS), in
# ndjson, json, table, csv and sarif, with one worker and with three.
# Exit 0 when every output is identical; otherwise the differing files are
# named and a diff of the first is printed. A change that fixes a defect
# names it in its commit; run this before and after to see what it moved.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
base=${1:-main}
corpus=${TLSSCOPE_CORPUS:-$top/../shared/corpus}
work=$(mktemp -d /tmp/samecheck.XXXXXX)
trap 'git worktree remove --force "$work/base-src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git worktree add --detach "$work/base-src" "$base" >/dev/null 2>&1
ld='-X main.version=samecheck -X github.com/tlsscope/tlsscope.version=samecheck'
(cd "$work/base-src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$work/base" ./cmd/tlsscope)
CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$work/new" ./cmd/tlsscope

mapfile -t caps < <( (ls testdata/pcaps/*.pcap* 2>/dev/null; \
  [ -d "$corpus" ] && find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.cap' \)) | sort)
[ ${#caps[@]} -gt 0 ] || { echo "samecheck: no captures found" >&2; exit 2; }

fail=0
n=0
for bin in base new; do mkdir -p "$work/out-$bin"; done
for c in "${caps[@]}"; do
  key=$(echo "$c" | sed 's|.*/shared/corpus/|corpus/|; s|/|_|g')
  for fmt in ndjson json table csv sarif; do
    for w in 1 3; do
      [ "$fmt" != ndjson ] && [ $w = 3 ] && continue
      for bin in base new; do
        "$work/$bin" --ca-file testdata/pcaps/ca.pem --workers $w --width 120 -q \
          --format "$fmt" "$c" >"$work/out-$bin/$key.$fmt.$w" 2>"$work/out-$bin/$key.$fmt.$w.err" || echo "exit $?" >>"$work/out-$bin/$key.$fmt.$w.err"
      done
      n=$((n+1))
      if ! cmp -s "$work/out-base/$key.$fmt.$w" "$work/out-new/$key.$fmt.$w" || \
         ! cmp -s "$work/out-base/$key.$fmt.$w.err" "$work/out-new/$key.$fmt.$w.err"; then
        [ $fail = 0 ] && diff "$work/out-base/$key.$fmt.$w" "$work/out-new/$key.$fmt.$w" | head -20 || true
        echo "DIFFERS: $c --format $fmt --workers $w"
        fail=$((fail+1))
      fi
    done
  done
done
echo "samecheck: $n outputs over ${#caps[@]} captures compared against $base: $fail differ"
[ $fail = 0 ]
