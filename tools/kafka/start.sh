#!/usr/bin/env bash
# Starts a real single-node Apache Kafka broker (KRaft, combined broker + controller) on
# 127.0.0.1 for tests, development and benchmarks, and waits until it answers.
#
# Usage: tools/kafka/start.sh [DIR]
#   DIR  data directory (created if missing; default: a new temporary directory).
#        A DIR whose storage was formatted by an earlier start is started again with its
#        data and its ports, so a test can restart "the same" broker.
#
# Prints on stdout, as shell assignments (env=$(tools/kafka/start.sh) && eval "$env"):
#   EDI_KAFKA_DIR=<DIR>
#   EDI_KAFKA_BOOTSTRAP=127.0.0.1:<port>
#   EDI_KAFKA_PID=<pid>
# The same lines are kept in DIR/env; DIR/bootstrap holds the address alone and
# DIR/kafka.pid the PID. Stop the broker with tools/kafka/stop.sh DIR [--clean].
#
# Environment (all optional):
#   EDI_KAFKA_HEAP_OPTS      JVM heap flags (default: -Xms256m -Xmx512m)
#   EDI_KAFKA_LOG_LEVEL      level of DIR/server.log (default: INFO)
#   EDI_KAFKA_EXTRA_CONFIG   extra server.properties lines, appended last so they win
#   EDI_KAFKA_START_TIMEOUT  seconds to wait for the broker to answer (default: 60)
#   EDI_KAFKA_HOME, JAVA_HOME  see common.sh
set -euo pipefail
KAFKA_SCRIPT_NAME=kafka-start
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if (($# > 1)) || [[ ${1:-} == -* ]]; then
  echo "usage: $0 [DIR]" >&2
  exit 2
fi

"$KAFKA_TOOLS_DIR/fetch.sh"

start_timeout=${EDI_KAFKA_START_TIMEOUT:-60}
heap_opts=${EDI_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
log_level=${EDI_KAFKA_LOG_LEVEL:-INFO}

created_dir=false
if (($# == 1)); then
  mkdir -p "$1"
  dir=$1
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/edi-kafka.XXXXXX")
  created_dir=true
fi
# The broker resolves relative paths against its own working directory, not ours.
dir=$(cd "$dir" && pwd)

if [[ -f $dir/kafka.pid ]] && kafka_pid_is_broker "$(cat "$dir/kafka.pid")" "$dir"; then
  die "a broker is already running for $dir (pid $(cat "$dir/kafka.pid")); stop it with $KAFKA_TOOLS_DIR/stop.sh $dir"
fi

# Whatever goes wrong from here on (an error, a timeout, Ctrl-C), no broker may be left
# running and no half-made temporary directory left behind.
pid=
started=false
cleanup() {
  if ! $started; then
    if [[ -n $pid ]]; then
      kafka_terminate "$pid" 10
    fi
    rm -f "$dir/kafka.pid" "$dir/bootstrap" "$dir/env"
    if $created_dir; then
      rm -rf "$dir"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

show_logs() {
  local f
  for f in "$dir/server.log" "$dir/kafka.out"; do
    if [[ -s $f ]]; then
      echo "--- last lines of $f ---" >&2
      tail -n 30 "$f" >&2
    fi
  done
}

# Asks the kernel for two distinct free ports on 127.0.0.1. Both sockets are held open
# until both numbers are known so that the two cannot be equal; another process may still
# take a port before the broker binds it, which the retry loop below covers.
pick_ports() {
  python3 -c '
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
'
}

# A Kafka cluster id: 16 random bytes, base64url without padding. Kafka itself never
# hands out one starting with "-", since it would read as an option on a command line.
new_cluster_id() {
  python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break
'
}

write_config() {
  local broker_port=$1 controller_port=$2
  cat >"$dir/server.properties" <<EOF
# Single-node KRaft broker for edi-audit tests; written by tools/kafka/start.sh.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$broker_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$broker_port,CONTROLLER://127.0.0.1:$controller_port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT

log.dirs=$dir/data

# One broker: every replication factor must be 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Few internal partitions: creating the default 50 offsets partitions slows the first
# consumer group by seconds.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
# Tests start consumer groups one after the other; no reason to wait for more members.
group.initial.rebalance.delay.ms=0
# A typo in a topic name must fail, not create a new topic.
auto.create.topics.enable=false
num.partitions=1
EOF
  if [[ -n ${EDI_KAFKA_EXTRA_CONFIG:-} ]]; then
    printf '\n# EDI_KAFKA_EXTRA_CONFIG\n%s\n' "$EDI_KAFKA_EXTRA_CONFIG" >>"$dir/server.properties"
  fi
}

# Kafka 4 logs through log4j2; the broker logs to DIR/server.log only, since its stdout
# belongs to nobody once this script has returned.
write_log_config() {
  cat >"$dir/log4j2.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="$dir/server.log" filePattern="$dir/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="64 MB"/>
      <DefaultRolloverStrategy max="2"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="$log_level">
      <AppenderRef ref="server"/>
    </Root>
    <!-- One line per request or per partition state change: far too much at INFO. -->
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
  </Loggers>
</Configuration>
EOF
}

# Prints "BROKER_PORT CONTROLLER_PORT" from an existing server.properties.
ports_from_config() {
  sed -n 's/^listeners=PLAINTEXT:\/\/127\.0\.0\.1:\([0-9]*\),CONTROLLER:\/\/127\.0\.0\.1:\([0-9]*\)$/\1 \2/p' \
    "$dir/server.properties"
}

format_storage() {
  rm -rf "$dir/data"
  if ! kafka_run_tool "$KAFKA_MAIN_STORAGE" format --standalone \
    --config "$dir/server.properties" --cluster-id "$(new_cluster_id)" \
    >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    die "formatting the storage in $dir/data failed"
  fi
}

launch_broker() {
  rm -f "$dir/server.log" "$dir/server.log".* "$dir/kafka.out"
  # stdin/stdout/stderr must not stay attached to the caller: a caller reading our output
  # through $(...) would otherwise wait for the broker to exit.
  # shellcheck disable=SC2086 # heap_opts holds several flags
  "$JAVA" $heap_opts -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.xml" \
    -Dkafka.logs.dir="$dir" \
    -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN_BROKER" "$dir/server.properties" \
    </dev/null >"$dir/kafka.out" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/kafka.pid"
}

# Waits until the broker serves metadata and lists itself; a broker that is still fenced
# answers without itself in the broker list and could not yet host a new topic.
# Returns 0 when ready, 1 if the broker died, 2 on timeout.
wait_ready() {
  local addr=$1 deadline=$((SECONDS + start_timeout))
  while ((SECONDS < deadline)); do
    if ! kafka_pid_alive "$pid"; then
      wait "$pid" 2>/dev/null || true
      pid=
      return 1
    fi
    if timeout 10 "$kcat" -L -b "$addr" -m 2 2>/dev/null | grep -q "broker 1 at $addr"; then
      return 0
    fi
    sleep 0.3
  done
  return 2
}

begin=${EPOCHREALTIME/./}
kcat=$(kafka_kcat_bin)
write_log_config
if [[ -f $dir/server.properties && -f $dir/data/meta.properties ]]; then
  # Restart: the controller's own address is recorded in the formatted metadata log, so
  # the ports cannot change.
  read -r broker_port controller_port < <(ports_from_config) ||
    die "cannot read the ports from $dir/server.properties"
  attempts=1
else
  attempts=3
fi

for ((attempt = 1; ; attempt++)); do
  if ((attempts > 1)); then
    read -r broker_port controller_port < <(pick_ports) ||
      die "could not get free ports from the kernel"
    write_config "$broker_port" "$controller_port"
    format_storage
  fi
  addr=127.0.0.1:$broker_port
  launch_broker
  status=0
  wait_ready "$addr" || status=$?
  if ((status == 0)); then
    break
  fi
  if ((status == 1)) && ((attempt < attempts)) &&
    grep -qs 'Address already in use' "$dir/server.log" "$dir/kafka.out"; then
    note "port $broker_port or $controller_port was taken meanwhile; retrying with new ports"
    continue
  fi
  show_logs
  if ((status == 1)); then
    die "the broker exited during start-up (see the log lines above)"
  fi
  die "the broker did not answer on $addr within ${start_timeout}s (see the log lines above)"
done

printf '%s\n' "$addr" >"$dir/bootstrap"
{
  printf 'EDI_KAFKA_DIR=%q\n' "$dir"
  printf 'EDI_KAFKA_BOOTSTRAP=%s\n' "$addr"
  printf 'EDI_KAFKA_PID=%s\n' "$pid"
} >"$dir/env"
started=true
took_ms=$(((${EPOCHREALTIME/./} - begin) / 1000))
note "Kafka $KAFKA_VERSION up on $addr (pid $pid, dir $dir) after $((took_ms / 1000)).$(printf %03d $((took_ms % 1000)))s"
cat "$dir/env"
