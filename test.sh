#!/usr/bin/env bash
# Runs every test of the project: builds everything (the Functions app where its packages
# restore), runs the unit, integration (Azurite), infrastructure and browser (dashboard) tests, and ends with one
# line "N passed, M failed". Exit code 0 only when everything built and passed.
set -uo pipefail
cd "$(dirname "$0")"

results=TestResults
rm -rf "$results"
mkdir -p "$results"
status=0
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is not on PATH"; echo "0 passed, 1 failed"; exit 1; }
command -v npm >/dev/null || { echo "error: Node.js and npm are needed (Azurite runs on Node.js)"; echo "0 passed, 1 failed"; exit 1; }

# Azurite, pinned in tools/azurite/package-lock.json; the test fixtures start it themselves.
if [ ! -x tools/azurite/node_modules/.bin/azurite ]; then
  echo "== installing Azurite (npm ci)"
  (cd tools/azurite && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) || { echo "error: npm ci failed in tools/azurite"; status=1; }
fi

# The Functions app: built wherever its packages restore; where they cannot, say so and go on.
echo "== Pipeline.Functions"
if dotnet restore functions/Pipeline.Functions/Pipeline.Functions.csproj >"$results/functions-restore.log" 2>&1; then
  if ! dotnet build functions/Pipeline.Functions/Pipeline.Functions.csproj --no-restore -c Release -nologo -v q >"$results/functions-build.log" 2>&1; then
    echo "error: Pipeline.Functions failed to build:"; grep -E "error" "$results/functions-build.log" | sort -u | head -30
    status=1
  else
    echo "Pipeline.Functions built."
  fi
else
  echo "Pipeline.Functions skipped: its Azure Functions worker packages do not restore from this machine's package feed (see $results/functions-restore.log)."
fi

echo "== Pipeline.Benchmarks (build only; run them with ./bench.sh)"
if ! dotnet build tests/Pipeline.Benchmarks/Pipeline.Benchmarks.csproj -c Release -nologo -v q >"$results/benchmarks-build.log" 2>&1; then
  echo "error: Pipeline.Benchmarks failed to build:"; grep -E "error" "$results/benchmarks-build.log" | sort -u | head -30
  status=1
fi

passed=0; failed=0; skipped=0
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=1
  trx="$results/$name.trx"
  if [ -f "$trx" ]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); p=${p:-0}
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=${f:-0}
    t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); t=${t:-0}
    e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters"); e=${e:-0}
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
    [ "$f" -eq 0 ] || status=1
  else
    echo "error: $name produced no results (build failure or crash)"
    failed=$((failed + 1)); status=1
  fi
done

# The mini-program SDK: Node's built-in test runner (the SDK has no dependencies to install).
# Its TAP summary's pass/fail counts join the totals; a crash without a summary is a failure.
echo "== sdk/miniprogram (node --test)"
tap="$results/miniprogram-sdk.tap"
(cd sdk/miniprogram && node --test --test-reporter=tap test/*.test.js) >"$tap" 2>&1
code=$?
p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -1); p=${p:-0}
f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -1); f=${f:-0}
if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
echo "$p passed, $f failed"
if [ "$f" -ne 0 ]; then grep -E "^ *not ok" "$tap" || tail -20 "$tap"; status=1; fi
passed=$((passed + p)); failed=$((failed + f))

# The dashboard in a real browser: Debian's Chromium (installed by ensure-chromium.sh when missing), driven
# by playwright-core from the suite's lock file, against the built runner's demo. Counted like the SDK's suite.
echo "== Pipeline.Browser.Tests (node --test, headless Chromium)"
tap="$results/browser.tap"
browser="tests/Pipeline.Browser.Tests"
if ! dotnet build functions/Pipeline.Local/Pipeline.Local.csproj -c Release -nologo -v q >"$results/local-build.log" 2>&1; then
  echo "error: Pipeline.Local failed to build:"; grep -E "error" "$results/local-build.log" | sort -u | head -30
  p=0; f=1
elif ! (cd "$browser" && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error; } && ./ensure-chromium.sh) >"$results/browser-setup.log" 2>&1; then
  echo "error: the browser tests could not be set up:"; tail -20 "$results/browser-setup.log"
  p=0; f=1
else
  (cd "$browser" && node --test --test-concurrency=1 --test-reporter=tap test/*.test.js) >"$tap" 2>&1
  code=$?
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -1); p=${p:-0}
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -1); f=${f:-0}
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -ne 0 ]; then grep -E "^ *not ok" "$tap" || tail -20 "$tap"; fi
fi
echo "$p passed, $f failed"
[ "$f" -eq 0 ] || status=1
passed=$((passed + p)); failed=$((failed + f))

[ "$passed" -gt 0 ] || status=1
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
