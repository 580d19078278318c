#!/usr/bin/env bash
# Performance runs (not part of ./test.sh, which only builds the benchmarks project).
#
#   ./bench.sh [--filter PATTERN] [BenchmarkDotNet options]
#       BenchmarkDotNet micro-benchmarks, Release build. PATTERN is a glob over the
#       benchmarks' full names (Namespace.Class.Method), for example:
#         ./bench.sh --filter '*'                     every benchmark (the default)
#         ./bench.sh --filter '*Rollup*'              rollup engine and rollup from the event store
#         ./bench.sh --filter '*EventBlockCodec*'     event store codec
#         ./bench.sh --filter '*Compact*'             compacted event store formats (codec vs Parquet)
#         ./bench.sh --filter '*Ingest*' '*Pseudonymizer*'
#       Other options go to BenchmarkDotNet as they are (--list flat, --memory, ...).
#       Results: the console and BenchmarkDotNet.Artifacts/results/ (ignored by git).
#
#   ./bench.sh import-sample FILE [EVENTS] [DAYS] [MINI-PROGRAMS]
#       Writes an NDJSON file of EVENTS (100000) valid simulated events spread over the DAYS (60)
#       reporting days before today, gzip when FILE ends in .gz: the input for measuring
#       `pipeline import` (docs/operations.md, "Backfilling history with import").
#
#   dotnet tests/Pipeline.Benchmarks/bin/Release/net10.0/Pipeline.Benchmarks.dll importday FILE [SHARDS]
#       A backfilled day end to end, each step its own process on a throw-away Azurite: serve (processing)
#       while `import FILE` lands it, processing drained, `sweep`, `rollup`; wall time and peak RSS of each.
#
#   ./bench.sh load [--seconds 600] [--rate 1000] [--batch 200] [...]
#       The end-to-end load and soak harness against the local runner and a throw-away
#       Azurite; `./bench.sh load --help` lists the options. Exit code 1 when a count
#       differs or a request failed with a 5xx.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

project=tests/Pipeline.Benchmarks/Pipeline.Benchmarks.csproj
dotnet build "$project" -c Release -nologo -v q >/dev/null || { echo "error: the benchmarks project failed to build (dotnet build $project -c Release)"; exit 1; }
bench=tests/Pipeline.Benchmarks/bin/Release/net10.0/Pipeline.Benchmarks.dll

if [ "${1:-}" = "load" ]; then
  shift
  exec dotnet "$bench" load "$@"
fi

if [ "$#" -eq 0 ]; then set -- --filter '*'; fi
exec dotnet "$bench" "$@"
