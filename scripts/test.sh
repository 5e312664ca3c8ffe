#!/usr/bin/env bash
# Runs every test project of the solution and ends with one line of totals: `N passed, N failed, N skipped`.
# Exits non-zero when anything failed: the restore, the build, a test, a skipped test, or a test project that
# reported nothing.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Installs Debian packages as root (or through sudo); a failure ends the run with a total that says so.
install_packages() {
  local as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then
      as_root=(sudo)
    else
      echo "installing $* needs root (or sudo): apt-get install $*"
      echo "0 passed, 1 failed, 0 skipped"; exit 1
    fi
  fi
  echo "Installing: apt-get update, then apt-get install -y $*"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
    && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" \
    || { echo "installing $* failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
}

# The adapter tests start throwaway PostgreSQL 15 and Redis servers themselves: install the Debian packages if missing.
if [[ ! -x /usr/lib/postgresql/15/bin/initdb || ! -x /usr/bin/redis-server ]]; then
  install_packages postgresql redis-server
fi

# The compiled capture trigger's server module, which the PostgreSQL tests load: built against the server's headers.
pg_config=/usr/lib/postgresql/15/bin/pg_config
if [[ ! -f /usr/include/postgresql/15/server/postgres.h || ! -x $pg_config ]] \
  || ! command -v gcc >/dev/null || ! command -v make >/dev/null; then
  install_packages postgresql-server-dev-15 gcc make
fi
make -C extensions/lazymigrate_capture PG_CONFIG="$pg_config" with_llvm=no \
  || { echo "building extensions/lazymigrate_capture failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

dotnet restore LazyMigrate.sln || { echo "restore failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
dotnet build LazyMigrate.sln -c Release --no-restore || { echo "build failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
passed=0 failed=0 skipped=0 status=0

# Reads one counter attribute of a TRX file's <Counters> element.
counter() { grep -o "<Counters [^>]*" "$1" | grep -o " $2=\"[0-9]*\"" | grep -o "[0-9]*"; }

# Prints each test a TRX file reports as not passed, with the first lines of its message, so that the end of the
# output (all a CI summary may show) names what failed.
not_passed() {
  awk '
    function unescape(text) {
      gsub(/&quot;/, "\"", text); gsub(/&apos;/, "\047", text); gsub(/&lt;/, "<", text); gsub(/&gt;/, ">", text)
      gsub(/&amp;/, "\\&", text); return text
    }
    /<UnitTestResult / {
      reporting = !/outcome="Passed"/; inmessage = 0; lines = 0
      skipped = /outcome="NotExecuted"/ ? " (skipped)" : ""
      if (reporting) { name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); print "  " unescape(name) skipped }
    }
    reporting && /<Message>/ { inmessage = 1 }
    reporting && inmessage {
      line = $0; sub(/.*<Message>/, "", line); ended = sub(/<\/Message>.*/, "", line)
      if (lines++ < 6) print "    " unescape(line)
      if (ended) inmessage = 0
    }
  ' "$1"
}

for project in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  echo "=== $name"
  dotnet test "$project" -c Release --no-build --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" --results-directory "$results" || status=1
  trx="$results/$name.trx"
  if [[ ! -f "$trx" ]]; then
    echo "$name produced no test results"
    failed=$((failed + 1)); status=1
    continue
  fi
  passed=$((passed + $(counter "$trx" passed)))
  failed=$((failed + $(counter "$trx" failed) + $(counter "$trx" error) + $(counter "$trx" timeout) + $(counter "$trx" aborted)))
  # A skipped test is in the total but not executed: TRX counts it under no counter of its own.
  skipped=$((skipped + $(counter "$trx" total) - $(counter "$trx" executed)))
done

if [[ $failed -gt 0 || $skipped -gt 0 ]]; then
  echo "=== Not passed"
  for trx in "$results"/*.trx; do [[ -f $trx ]] && not_passed "$trx"; done
  status=1
fi
# A skipped test proves nothing: no test here may be skipped, so a skip fails the run too.
[[ $skipped -eq 0 ]] || { echo "$skipped tests were skipped: none may be"; status=1; }
[[ $passed -gt 0 ]] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
