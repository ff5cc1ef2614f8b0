#!/usr/bin/env bash
# Re-captures the real benchmark text and benchstat output kept here (run by hand, not by tests).
# Needs the toolchains at /tmp/gobin-<v>/go and benchstat (BENCHSTAT, else the one `make test`
# builds: python -m devtools.gotools path benchstat).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/benchcap" "$work/src"
versions=(1.25.5 1.27.3)
for v in "${versions[@]}"; do
  (cd "$work/src" && env GOTOOLCHAIN=local GOROOT="/tmp/gobin-$v/go" PATH="/tmp/gobin-$v/go/bin:$PATH" \
    GOFLAGS= GOWORK=off go test -c -o "$work/bench-$v.test" .)
done
bench() { # version gomaxprocs pattern
  GOMAXPROCS=$2 "$work/bench-$1.test" -test.run='^$' -test.bench="$3" -test.benchtime=20ms \
    -test.benchmem -test.count=1
}
# lab.txt: interleaved rounds, the lab's configuration lines, exact-unit metadata.
{
  echo "Unit B/op assume=exact"
  echo "Unit allocs/op assume=exact"
  for round in $(seq 1 10); do
    pat='^Benchmark(Sum|Join|Grow|Metric|Copy|OnlyNew)$'
    [ "$round" -le 5 ] && pat='^Benchmark(Sum|Join|Grow|Metric|Copy|OnlyNew|FewFive)$'
    [ "$round" -le 3 ] && pat='^Benchmark(Sum|Join|Grow|Metric|Copy|OnlyNew|FewFive|FewThree)$'
    for v in "${versions[@]}"; do
      for p in 1 2; do
        printf 'go: %s\ngomaxprocs: %s\nround: %s\n' "$v" "$p" "$round"
        bench "$v" "$p" "$pat"
      done
    done
  done
} > "$here/lab.txt"
# plain.txt: untouched `go test` output (PASS/ok lines, -v chatter) from one toolchain.
(cd "$work/src" && env GOTOOLCHAIN=local GOROOT=/tmp/gobin-1.27.3/go PATH="/tmp/gobin-1.27.3/go/bin:$PATH" \
  GOFLAGS= GOWORK=off GOMAXPROCS=2 go test -v -run='^$' -bench='Sum|Metric|Copy' -benchtime=20ms \
  -benchmem -count=2 -cpu=1,2 .) > "$here/plain.txt"
sed -i -E 's/^(ok\s+\S+\s+)[0-9.]+s$/\1 0.000s/' "$here/plain.txt"
bs=${BENCHSTAT:-$(cd "$here/../../.." && .venv/bin/python -m devtools.gotools install benchstat >/dev/null && .venv/bin/python -m devtools.gotools path benchstat)}
cd "$here"
"$bs" -format csv -col go -ignore round lab.txt > lab.exact.csv 2> lab.exact.warnings
# *.mirror.*: the other column as the baseline (the other tail of tied exact U tests; see
# DIFFERENCES_FROM_BENCHSTAT in releaselab/bench/stats.py).
"$bs" -format csv -col 'go@(1.27.3 1.25.5)' -ignore round lab.txt > lab.exact.mirror.csv 2> lab.exact.mirror.warnings
grep -v '^Unit ' lab.txt > "$work/lab.txt"
(cd "$work" && "$bs" -format csv -col go -ignore round lab.txt) > lab.nothing.csv 2> lab.nothing.warnings
(cd "$work" && "$bs" -format csv -col 'go@(1.27.3 1.25.5)' -ignore round lab.txt) > lab.nothing.mirror.csv 2> lab.nothing.mirror.warnings
# synthetic.txt: every branch of the U test (exact/approximate, with/without ties).
python3 make_synthetic.py > synthetic.txt
"$bs" -format csv -col go synthetic.txt > synthetic.csv 2> synthetic.warnings
"$bs" -format csv -col 'go@(new base)' synthetic.txt > synthetic.mirror.csv 2> synthetic.mirror.warnings
