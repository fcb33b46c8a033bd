#!/usr/bin/env bash
# Sets up and runs the whole RayOrleans test suite: the one command for a fresh Debian 12 machine with the
# .NET 10 SDK, locally and in CI (`bash .ci/run`). Installs with apt-get only what is missing, runs
# `dotnet test` on the solution, writes its output to artifacts/test.log, ends with a line
# "N passed, N failed, N skipped" and exits with dotnet test's exit code.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- System packages: "command package" pairs; a package is installed only when its command is missing.
# redis-server: Redis membership for the multi-node tests (they start their own server on a free port).
# chromium: the headless browser the dashboard tests drive through Playwright (never downloaded by Playwright).
required=(
  "redis-server redis-server"
  "redis-cli redis-tools"
  "chromium chromium"
)

missing=()
for pair in "${required[@]}"; do
  read -r cmd pkg <<<"$pair"
  if ! command -v "$cmd" >/dev/null 2>&1; then
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "Installing: ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK ('dotnet') is not on PATH; see https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 1
fi

# --- Tests. pipefail is off around the pipe so a failing run still reaches the summary; PIPESTATUS keeps
# dotnet test's own exit code rather than tee's.
mkdir -p artifacts
log=artifacts/test.log
set +e
# A test that hangs is stopped (with a dump) instead of holding CI until its limit.
dotnet test RayOrleans.sln -c Release --logger "console;verbosity=normal" --blame-hang-timeout 5m </dev/null 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# --- Summary, summed over test projects. At normal verbosity each project ends with a block
#   Total tests: 12 /      Passed: 11 /      Failed: 1 /     Skipped: 0 / Total time: ...
# and at minimal verbosity with one line "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ...";
# both are read, the block preferred, so a change of verbosity does not zero the counts.
read -r passed failed skipped < <(
  sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
    /^Total tests: [0-9]+/ { block = 1; blocks++; next }
    block && /^ +Passed: [0-9]+ *$/  { bp += $2; next }
    block && /^ +Failed: [0-9]+ *$/  { bf += $2; next }
    block && /^ +Skipped: [0-9]+ *$/ { bs += $2; next }
    block && /^ +Total time:/        { block = 0; next }
    /^(Passed|Failed|Skipped)! +- Failed: / {
      line = $0; gsub(/[,:]/, " ", line); n = split(line, w, / +/)
      for (i = 1; i < n; i++) {
        if (w[i] == "Failed" && w[i + 1] ~ /^[0-9]+$/) lf += w[i + 1]
        if (w[i] == "Passed" && w[i + 1] ~ /^[0-9]+$/) lp += w[i + 1]
        if (w[i] == "Skipped" && w[i + 1] ~ /^[0-9]+$/) ls += w[i + 1]
      }
    }
    END {
      if (blocks > 0) print bp + 0, bf + 0, bs + 0
      else print lp + 0, lf + 0, ls + 0
    }'
)

echo
echo "dotnet test exit code: $status (log: $log)"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
