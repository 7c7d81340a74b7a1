#!/usr/bin/env bash
# Fill fuzz/corpus/<target> with seeds made by the fixture generator:
# every CPython fixture of at most 64 KiB for
# `load` and `roundtrip`; `value_roundtrip` gets the same bytes, which
# `arbitrary` reads as a recipe for a document; `serde_reader` gets them
# behind one byte that sets its read sizes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python3 "$root/tests/gen_fixtures.py" "$tmp" >/dev/null
for target in load roundtrip value_roundtrip serde_typed serde_reader; do
  mkdir -p "$here/corpus/$target"
done
n=0
for f in "$tmp"/*.pkl; do
  # Keep seeds small: libFuzzer's default -max_len is 4096 when unset.
  size=$(wc -c <"$f")
  [ "$size" -le 65536 ] || continue
  name="$(basename "$f" .pkl)"
  cp "$f" "$here/corpus/load/$name"
  cp "$f" "$here/corpus/roundtrip/$name"
  cp "$f" "$here/corpus/value_roundtrip/$name"
  cp "$f" "$here/corpus/serde_typed/$name"
  # serde_reader: the first byte sets the read sizes.
  { printf '\x05'; cat "$f"; } >"$here/corpus/serde_reader/$name"
  n=$((n + 1))
done
echo "seeded $n files into $here/corpus/{load,roundtrip,value_roundtrip,serde_typed,serde_reader}"
