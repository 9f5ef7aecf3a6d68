# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this file
# Shared settings for the tools/kafka scripts; sourced, never run.
#
# Environment (all optional):
#   EDI_KAFKA_HOME  where the Kafka jars are cached
#                   (default ~/.cache/edi-audit/kafka-<version>; the version is in the path
#                   so that changing pom.xml never mixes jars of two releases)
#   JAVA_HOME       the JDK to run Kafka with (default: `java` on PATH); must be 17 or newer

KAFKA_TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# pom.xml is the single place that names the Kafka version.
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_TOOLS_DIR/pom.xml")
KAFKA_HOME=${EDI_KAFKA_HOME:-${HOME:?neither EDI_KAFKA_HOME nor HOME is set}/.cache/edi-audit/kafka-$KAFKA_VERSION}
KAFKA_LIBS=$KAFKA_HOME/libs
# Written last by fetch.sh: a libs directory without it is incomplete.
KAFKA_LIBS_MARKER=$KAFKA_LIBS/.complete

if [[ -n ${JAVA_HOME:-} ]]; then
  JAVA=$JAVA_HOME/bin/java
else
  JAVA=java
fi

# Main classes of Kafka 4.x (see README.md).
KAFKA_MAIN_BROKER=kafka.Kafka
KAFKA_MAIN_STORAGE=kafka.tools.StorageTool
KAFKA_MAIN_TOPICS=org.apache.kafka.tools.TopicCommand

die() {
  echo "${KAFKA_SCRIPT_NAME:-kafka}: error: $*" >&2
  exit 1
}

note() {
  echo "${KAFKA_SCRIPT_NAME:-kafka}: $*" >&2
}

# Runs a short-lived Kafka command-line tool. Command-line tools only live for seconds, so
# the JVM is tuned for start-up time rather than throughput, and they log warnings to
# stderr through their own log4j2 file instead of the broker's.
kafka_run_tool() {
  local main=$1
  shift
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_TOOLS_DIR/tools-log4j2.xml" \
    -cp "$KAFKA_LIBS/*" "$main" "$@"
}

# Path of kcat, which older Debian releases call kafkacat.
kafka_kcat_bin() {
  command -v kcat || command -v kafkacat || die "kcat is not installed (run $KAFKA_TOOLS_DIR/fetch.sh)"
}

# Whether PID is alive and is the broker started for DIR (PIDs get reused, so a PID file
# alone does not prove it).
kafka_pid_is_broker() {
  local pid=$1 dir=$2
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null) || return 1
  [[ $cmdline == *"$KAFKA_MAIN_BROKER"*"$dir/server.properties"* ]]
}

# Whether PID is still running. A zombie counts as gone: it has exited and only waits for
# its parent to reap it, and `kill -0` alone cannot tell it from a live process.
kafka_pid_alive() {
  local pid=$1 stat
  stat=$(cat /proc/"$pid"/stat 2>/dev/null) || return 1
  # The state is the first field after the parenthesised command name.
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# Sends SIGTERM, waits up to TIMEOUT seconds for a clean exit, then SIGKILLs.
kafka_terminate() {
  local pid=$1 timeout=${2:-30}
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + timeout))
  while kafka_pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      note "broker $pid did not stop within ${timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while kafka_pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
      break
    fi
    sleep 0.2
  done
  # Reap it if it is our own child, so that no zombie is left behind.
  wait "$pid" 2>/dev/null || true
}
