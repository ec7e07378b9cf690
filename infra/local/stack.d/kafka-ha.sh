# shellcheck shell=bash
# ha profile: three Kafka brokers on loopback, services kafka1 kafka2 kafka3 (one process each).
# Sourced by infra/local/stack; reuses its single-node pieces (kafka_fetch_jars, kafka_java,
# kafka_properties, kafka_random_uuid, kafka_create_topics, KAFKA_TOPICS, KAFKA_PARTITIONS).
#
# KRaft, every node broker + controller, one cluster id, controller.quorum.voters naming all three:
# any two of them keep the quorum and the cluster. The settings (replication factor 3,
# min.insync.replicas 2, the fencing timeout) are infra/config/kafka/replicated.properties.tmpl's,
# shared with infra/compose.ha.yaml.
#
# Ports (client / controller): KAFKA1_PORT 9192 / KAFKA1_CONTROLLER_PORT 9193, KAFKA2_* 9292 / 9293,
# KAFKA3_* 9392 / 9393. `stack --ha env` prints KAFKA_BROKERS with the three client addresses.
# KAFKA_HA_HEAP: JVM heap of each broker (-Xms128m -Xmx384m). KAFKA_HA_SESSION_TIMEOUT_MS: how long
# the controller waits for a silent broker before fencing it and moving its leaderships (default in
# replicated.properties.tmpl).
#
# Readiness of one node: "Kafka Server started" logged since its launch, which needs a quorum (two
# nodes running). While fewer than two run, a node whose controller listener is open counts as
# ready, so `up` can start them one after another; the last one's after-step waits for the whole
# cluster and creates the topics.

KAFKA_HA_NODES=(1 2 3)
KAFKA_HA_HEAP="${KAFKA_HA_HEAP:--Xms128m -Xmx384m}"
KAFKA_HA_CONF="$LOCAL/kafka-ha"
KAFKA_HA_CLUSTER_ID_FILE="$DATA/kafka-ha.cluster-id"

kafka_ha_port() { local v="KAFKA$1_PORT"; echo "${!v:-9${1}92}"; }
kafka_ha_controller_port() { local v="KAFKA$1_CONTROLLER_PORT"; echo "${!v:-9${1}93}"; }
kafka_ha_props() { echo "$KAFKA_HA_CONF/server-$1.properties"; }

kafka_ha_url() {
  local n out=()
  for n in "${KAFKA_HA_NODES[@]}"; do out+=("127.0.0.1:$(kafka_ha_port "$n")"); done
  local IFS=,
  echo "${KAFKA_BROKERS:-${out[*]}}"
}

kafka_ha_voters() {
  local n out=()
  for n in "${KAFKA_HA_NODES[@]}"; do out+=("$n@127.0.0.1:$(kafka_ha_controller_port "$n")"); done
  local IFS=,
  echo "${out[*]}"
}

kafka_ha_write_config() {
  local n=$1 props; props=$(kafka_ha_props "$1")
  mkdir -p "$KAFKA_HA_CONF" "$DATA/kafka$n"
  kafka_properties replicated.properties.tmpl "$n" "$(kafka_ha_voters)" "$(kafka_ha_port "$n")" \
    "$(kafka_ha_controller_port "$n")" "$DATA/kafka$n" >"$props.tmp"
  mv "$props.tmp" "$props"
}

kafka_ha_owns() { cmdline_has "$2" "$(kafka_ha_props "$1")"; }

# Broker port open and "Kafka Server started" logged since our last launch of node $1.
kafka_ha_started() {
  local n=$1 off=0
  port_open "$(kafka_ha_port "$n")" || return 1
  [[ -f $RUN/kafka$n.logoffset ]] && off=$(<"$RUN/kafka$n.logoffset")
  # grep -c, not -q: see kafka_ready
  tail -c "+$((off + 1))" "$LOGS/kafka$n.log" 2>/dev/null | grep -c 'Kafka Server started' >/dev/null
}

kafka_ha_running() {
  local n c=0
  for n in "${KAFKA_HA_NODES[@]}"; do svc_pid "kafka$n" >/dev/null && c=$((c + 1)); done
  echo "$c"
}

kafka_ha_ready() {
  local n=$1
  kafka_ha_started "$n" && return 0
  # No quorum yet: nothing can finish starting; a node is as ready as it gets once its controller listens.
  (( $(kafka_ha_running) < 2 )) && port_open "$(kafka_ha_controller_port "$n")"
}

kafka_ha_start() {
  local n=$1 log="$LOGS/kafka$1.log"
  need_java
  kafka_fetch_jars
  kafka_ha_write_config "$n"
  mkdir -p "$LOGS"; touch "$log"
  # One cluster id for the three nodes (under the stack lock), kept with the data: reset clears both.
  [[ -s $KAFKA_HA_CLUSTER_ID_FILE ]] || kafka_random_uuid >"$KAFKA_HA_CLUSTER_ID_FILE"
  if [[ ! -f $DATA/kafka$n/meta.properties ]]; then
    local id; id=$(<"$KAFKA_HA_CLUSTER_ID_FILE")
    say "kafka$n: formatting storage $DATA/kafka$n (cluster id $id)"
    kafka_java kafka.tools.StorageTool format -t "$id" -c "$(kafka_ha_props "$n")" >>"$log" 2>&1 \
      || { tail -n 30 "$log" >&2; die "kafka$n: storage format failed"; }
  fi
  stat -c %s "$log" >"$RUN/kafka$n.logoffset"
  # shellcheck disable=SC2086 # KAFKA_HA_HEAP holds several JVM options
  start_bg "kafka$n" java $KAFKA_HA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$CONFIG/kafka/log4j2.yaml" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$(kafka_ha_props "$n")"
}

# The last node running has no quorum: its controlled shutdown waits for a controller that cannot
# answer (seen: still alive after 60 s), so it gets 5 s before the SIGKILL; log recovery at the
# next start covers it. Nodes stopped while a quorum remains shut down cleanly in seconds.
kafka_ha_stop_timeout() { if (( $(kafka_ha_running) <= 1 )); then echo 5; else echo 60; fi; }

# With RF 3 every node holds every partition: its own log.dirs tells whether the topics exist.
kafka_ha_topics_present() {
  local n=$1 t p
  for t in "${KAFKA_TOPICS[@]}"; do
    for (( p = 0; p < KAFKA_PARTITIONS; p++ )); do [[ -d $DATA/kafka$n/$t-$p ]] || return 1; done
  done
}

# Once all three run: wait until each serves, then create the topics if missing.
kafka_ha_after() {
  local n=$1 m
  for m in "${KAFKA_HA_NODES[@]}"; do
    if ! svc_pid "kafka$m" >/dev/null; then say "kafka$n: kafka$m is not running yet"; return 0; fi
  done
  for m in "${KAFKA_HA_NODES[@]}"; do wait_ready "kafka$m" 120; done
  if kafka_ha_topics_present "$n"; then
    say "kafka$n: cluster of ${#KAFKA_HA_NODES[@]} serving, topics present: ${KAFKA_TOPICS[*]}"
    return 0
  fi
  kafka_create_topics "$(kafka_ha_url)" "$LOGS/kafka$n.log"
}

for _n in "${KAFKA_HA_NODES[@]}"; do
  eval "
kafka${_n}_port()         { kafka_ha_port ${_n}; }
kafka${_n}_url_var()      { echo KAFKA_BROKERS; }
kafka${_n}_url()          { kafka_ha_url; }
kafka${_n}_packages()     { kafka_packages; }
kafka${_n}_owns()         { kafka_ha_owns ${_n} \"\$1\"; }
kafka${_n}_start()        { kafka_ha_start ${_n}; }
kafka${_n}_ready()        { kafka_ha_ready ${_n}; }
kafka${_n}_after()        { kafka_ha_after ${_n}; }
kafka${_n}_stop_timeout() { kafka_ha_stop_timeout; }
kafka${_n}_env()          { :; }
"
  HA_SERVICES+=("kafka${_n}")
done
unset _n
# One KAFKA_BROKERS line for the three services.
kafka1_env() { printf 'export KAFKA_BROKERS=%s\n' "$(kafka_ha_url)"; }
