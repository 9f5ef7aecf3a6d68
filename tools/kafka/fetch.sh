#!/usr/bin/env bash
# Makes sure the Apache Kafka jars (broker, storage and admin tools, log4j2) are cached
# locally, and that kcat is installed.
#
# The jars come from Maven Central through mvn, since no other download site is
# reachable from the project's machines; pom.xml names them and their version.
# Idempotent and silent when everything is already there, so that every script and test
# can call it first without cost.
#
# Usage: tools/kafka/fetch.sh
# Environment: EDI_KAFKA_HOME, JAVA_HOME (see common.sh); MAVEN_OPTS is passed to mvn.
set -euo pipefail
KAFKA_SCRIPT_NAME=kafka-fetch
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if (($# > 0)); then
  echo "usage: $0" >&2
  exit 2
fi

# Installs Debian packages when their command is missing; the scripts normally run as root
# (CI does), sudo is only for a developer's own account.
apt_install() {
  local sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
  fi
  note "installing $*"
  local log
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo_cmd[@]}" apt-get update -q &&
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "$@"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    die "could not install the Debian package(s) $*"
  fi
  rm -f "$log"
}

# kcat produces and consumes in the tests and the benchmark, and start.sh uses it to see
# when the broker answers. (Debian's kafkacat package is only a transitional alias of kcat.)
if ! command -v kcat >/dev/null 2>&1 && ! command -v kafkacat >/dev/null 2>&1; then
  apt_install kcat
fi

# start.sh asks the kernel for free ports through python3.
if ! command -v python3 >/dev/null 2>&1; then
  apt_install python3
fi

if ! command -v "$JAVA" >/dev/null 2>&1; then
  die "no java found (set JAVA_HOME or install a JDK 17+, e.g. openjdk-17-jre-headless)"
fi
java_major=$("$JAVA" -XshowSettings:properties -version 2>&1 |
  sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
if [[ -z $java_major ]] || ((java_major < 17)); then
  die "Kafka $KAFKA_VERSION needs Java 17 or newer; $JAVA is Java ${java_major:-unknown}"
fi

[[ -n $KAFKA_VERSION ]] || die "no <kafka.version> found in $KAFKA_TOOLS_DIR/pom.xml"

# The marker names what was fetched: with EDI_KAFKA_HOME set, the cache path does not
# change with the version in pom.xml, so the marker is what tells an old cache apart.
wanted="org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
cached() {
  [[ -f $KAFKA_LIBS_MARKER && $(<"$KAFKA_LIBS_MARKER") == "$wanted" ]]
}

# Fast path: nothing to do, nothing to print.
if cached; then
  exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
  apt_install maven
fi

mkdir -p "$KAFKA_HOME"
# Several test runs may start at once on a cold cache; only one of them downloads.
exec 9>"$KAFKA_HOME/.fetch.lock"
flock 9
if cached; then
  exit 0
fi

# Copy into a scratch directory and move it into place only when complete, so that an
# interrupted download never looks like a usable cache.
staging=$(mktemp -d "$KAFKA_HOME/libs.partial.XXXXXX")
mvn_log=$(mktemp "$KAFKA_HOME/fetch.log.XXXXXX")
trap 'rm -rf "$staging" "$mvn_log"' EXIT

# --file keeps Maven away from any other pom.xml in the working directory; the output
# directory is absolute so that nothing is written into the source tree.
if ! mvn -q -B --file "$KAFKA_TOOLS_DIR/pom.xml" \
  dependency:copy-dependencies \
  -DincludeScope=runtime \
  -DoutputDirectory="$staging" >"$mvn_log" 2>&1; then
  echo "--- mvn output (last 40 lines) ---" >&2
  # Debian's Maven writes colour escapes even in batch mode.
  tail -n 40 "$mvn_log" | sed 's/\x1b\[[0-9;]*m//g' >&2
  die "could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
fi

for jar in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar"; do
  [[ -f $staging/$jar ]] || die "mvn succeeded but $jar is missing from the copied jars"
done

echo "$wanted" >"$staging/.complete"
rm -rf "$KAFKA_LIBS"
mv "$staging" "$KAFKA_LIBS"
