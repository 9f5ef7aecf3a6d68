#!/usr/bin/env bash
# Stops a broker started by tools/kafka/start.sh: SIGTERM for a clean shutdown, SIGKILL if
# it has not exited after a timeout.
#
# Usage: tools/kafka/stop.sh DIR [--clean]
#   --clean  also delete DIR (its data and logs) once the broker is gone
# Environment: EDI_KAFKA_STOP_TIMEOUT  seconds before SIGKILL (default: 30)
#
# Stopping a broker that is not running is not an error, so that test clean-up code can
# call this unconditionally.
set -euo pipefail
KAFKA_SCRIPT_NAME=kafka-stop
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  echo "usage: $0 DIR [--clean]" >&2
  exit 2
}

dir='' clean=false
for arg in "$@"; do
  case $arg in
    --clean) clean=true ;;
    -*) usage ;;
    *)
      [[ -z $dir ]] || usage
      dir=$arg
      ;;
  esac
done
[[ -n $dir ]] || usage

if [[ ! -d $dir ]]; then
  # Already cleaned up: nothing to stop.
  $clean && exit 0
  die "no such directory: $dir"
fi
dir=$(cd "$dir" && pwd)

if [[ -f $dir/kafka.pid ]]; then
  pid=$(cat "$dir/kafka.pid")
  # Only signal the PID if it still is this directory's broker: after a reboot or a crash
  # the number may belong to an unrelated process.
  if kafka_pid_is_broker "$pid" "$dir"; then
    kafka_terminate "$pid" "${EDI_KAFKA_STOP_TIMEOUT:-30}"
  fi
  rm -f "$dir/kafka.pid"
fi

if $clean; then
  # Refuse to delete a directory that start.sh did not set up.
  if [[ ! -f $dir/server.properties && ! -f $dir/log4j2.xml ]]; then
    die "$dir does not look like a Kafka directory of start.sh; not deleting it"
  fi
  rm -rf "$dir"
fi
