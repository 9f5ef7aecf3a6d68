#!/usr/bin/env bash
# Manages topics on a broker with Kafka's own admin tool (org.apache.kafka.tools.TopicCommand).
#
# Usage:
#   tools/kafka/topic.sh BOOTSTRAP create NAME PARTITIONS [TOPIC-COMMAND OPTIONS...]
#   tools/kafka/topic.sh BOOTSTRAP delete NAME
#   tools/kafka/topic.sh BOOTSTRAP describe [NAME]
#   tools/kafka/topic.sh BOOTSTRAP list
# Extra options after `create` go to TopicCommand as they are, e.g.
#   --config retention.ms=60000 --config segment.bytes=1048576
# The replication factor is always 1: the scripts run a single broker.
set -euo pipefail
KAFKA_SCRIPT_NAME=kafka-topic
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  sed -n 's/^#   \(tools\/kafka\/topic.sh.*\)/usage: \1/p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

(($# >= 2)) || usage
bootstrap=$1
action=$2
shift 2

"$KAFKA_TOOLS_DIR/fetch.sh"

topics() {
  kafka_run_tool "$KAFKA_MAIN_TOPICS" --bootstrap-server "$bootstrap" \
    --command-config "$KAFKA_TOOLS_DIR/tools-admin.properties" "$@"
}

case $action in
  create)
    (($# >= 2)) || usage
    name=$1 partitions=$2
    shift 2
    [[ $partitions =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive number, not '$partitions'"
    # TopicCommand prints "Created topic NAME." on stdout, which a caller does not need.
    topics --create --topic "$name" --partitions "$partitions" --replication-factor 1 "$@" >/dev/null
    ;;
  delete)
    (($# == 1)) || usage
    topics --delete --topic "$1"
    ;;
  describe)
    (($# <= 1)) || usage
    topics --describe ${1:+--topic "$1"}
    ;;
  list)
    (($# == 0)) || usage
    topics --list
    ;;
  *)
    usage
    ;;
esac
