# shellcheck shell=bash
# Sourced by infra/local/stack: the ha profile's Redis, a primary and two replicas watched by three
# Sentinels, all on loopback from Debian's redis-server / redis-sentinel.
#
#   redis1 redis2 redis3           data nodes; redis1 starts as the primary, the others replicate it.
#                                  After a failover the roles are wherever Sentinel put them.
#   sentinel1 sentinel2 sentinel3  monitor the primary under the name $REDIS_HA_MASTER (quorum 2)
#
# Ports: REDIS_HA_PORT (6381: nodes on 6381..6383), REDIS_HA_SENTINEL_PORT (26381: 26381..26383).
# REDIS_HA_MASTER (coupon). REDIS_HA_ANNOUNCE_PORT: the port at which the others reach redis1 (a
# test's fault proxy in front of it); default its own port. The settings are the files of
# infra/config/redis, shared with the compose files: redis.conf and replicated.conf.tmpl for the
# nodes, sentinel.conf.tmpl for the Sentinels; their knobs (REDIS_HA_MAX_LAG_S,
# REDIS_HA_DOWN_AFTER_MS, REDIS_HA_FAILOVER_TIMEOUT_MS) have their defaults there.
# Clients: `stack --ha env` prints REDIS_SENTINELS and REDIS_SENTINEL_MASTER. Setting REDIS_SENTINELS
# yourself means "use those": none of these is started.
#
# Each node and Sentinel writes its config once into $DATA/ha/<name>/ and is started from it:
# Sentinel rewrites its file (the monitored primary, the known replicas and Sentinels, the epoch) and
# asks the nodes to rewrite theirs (replicaof), so a restart keeps the roles Sentinel assigned.
# Changing a port afterwards needs `stack --ha reset` (or deleting that directory).
#

REDIS_HA_PORT="${REDIS_HA_PORT:-6381}"
REDIS_HA_SENTINEL_PORT="${REDIS_HA_SENTINEL_PORT:-26381}"
REDIS_HA_MASTER="${REDIS_HA_MASTER:-coupon}"
REDIS_HA_ANNOUNCE_PORT="${REDIS_HA_ANNOUNCE_PORT:-$REDIS_HA_PORT}"
REDIS_HA_NODES=3

# ---------------------------------------------------------------------------------------------
# shared by nodes and Sentinels (<kind> is node or sentinel, <i> 1..3)

rha_dir()  { echo "$DATA/ha/$1"; }  # not under $DATA/redis*: redis_owns matches that prefix
rha_cli()  { redis-cli -h 127.0.0.1 -p "$1" "${@:2}" 2>/dev/null; }
rha_node_port()     { echo $(( REDIS_HA_PORT + $1 - 1 )); }
rha_sentinel_port() { echo $(( REDIS_HA_SENTINEL_PORT + $1 - 1 )); }
rha_sentinels() {
  local i out=()
  for (( i = 1; i <= REDIS_HA_NODES; i++ )); do out+=("127.0.0.1:$(rha_sentinel_port "$i")"); done
  local IFS=,; echo "${out[*]}"
}
# Redis rewrites its argv (proctitle), so ownership is "a redis process whose cwd is our directory".
rha_owns() { cmdline_has "$1" redis && [[ $(readlink "/proc/$1/cwd") == "$(rha_dir "$2")" ]]; }
rha_url()  { printf '%s' "${REDIS_SENTINELS:-$(rha_sentinels)}"; }

# rha_conf <name> <port> <generator>: writes the config once; a changed port needs a reset.
rha_conf() {
  local name=$1 port=$2 dir conf; dir=$(rha_dir "$name"); conf="$dir/$name.conf"
  mkdir -p "$dir"
  if [[ -f $conf ]]; then
    grep -qx "port $port" "$conf" \
      || die "$name: $conf was written for another port (not $port): 'infra/local/stack --ha reset' or delete $dir"
  else
    "$3" >"$conf.tmp" && mv "$conf.tmp" "$conf"
  fi
  echo "$conf"
}

# rha_wait <seconds> <what> <check...>: polls the check; a warning, not a failure, when it times out
# (a stopped replica or Sentinel leaves the rest usable).
rha_wait() {
  local secs=$1 what=$2 start; shift 2; start=$(now)
  until "$@"; do
    if (( $(now) - start >= secs )); then say "warning: $what not seen after ${secs}s"; return 0; fi
    sleep 0.3
  done
}

# ---------------------------------------------------------------------------------------------
# data nodes

# rha_config_head <name> <port>: the lines before the shared settings: loopback, port, directory.
rha_config_head() {
  echo "# generated once by infra/local/stack (stack.d/redis-ha.sh) from infra/config/redis; Sentinel rewrites it"
  printf '%s\n' "bind 127.0.0.1" "port $2" "dir $(rha_dir "$1")"
}

rha_node_config() { # uses $RHA_I
  local i=$RHA_I
  rha_config_head "redis$i" "$(rha_node_port "$i")"
  "$CONFIG/render" "$CONFIG/redis/redis.conf" "$CONFIG/redis/replicated.conf.tmpl" || return
  echo "replica-announce-ip 127.0.0.1"
  if (( i == 1 )); then
    echo "replica-announce-port $REDIS_HA_ANNOUNCE_PORT"
  else
    echo "replicaof 127.0.0.1 $REDIS_HA_ANNOUNCE_PORT"
  fi
}

rha_node_packages() { { bin redis-server && bin redis-cli; } >/dev/null || echo redis-server; }
rha_node_start() {
  local conf; conf=$(RHA_I=$1 rha_conf "redis$1" "$(rha_node_port "$1")" rha_node_config)
  # started in its directory: owns (cwd) holds from the first poll, before it reads its config
  (cd "$(rha_dir "redis$1")" && start_bg "redis$1" "$(bin redis-server)" "$conf")
}
rha_node_ready() { [[ $(rha_cli "$(rha_node_port "$1")" ping) == PONG ]]; }
# Settled: a replica linked to its primary, or the primary the Sentinels name (a restarted old
# primary comes back as a master from its file until a Sentinel converts it, about 10 s later).
rha_node_settled() {
  local port info i named=""; port=$(rha_node_port "$1")
  info=$(rha_cli "$port" info replication | tr -d '\r')
  [[ $info == *master_link_status:up* ]] && return 0
  [[ $info == *role:master* ]] || return 1
  for (( i = 1; i <= REDIS_HA_NODES; i++ )); do
    named=$(rha_cli "$(rha_sentinel_port "$i")" sentinel get-master-addr-by-name "$REDIS_HA_MASTER" | tail -n1)
    [[ -n $named ]] && break
  done
  # no Sentinel up yet (first start): the configured primary is the one
  [[ -z $named || $named == "$port" || ( $1 -eq 1 && $named == "$REDIS_HA_ANNOUNCE_PORT" ) ]]
}
rha_node_after() { rha_wait 30 "redis$1 as the primary or a linked replica" rha_node_settled "$1"; }

# ---------------------------------------------------------------------------------------------
# Sentinels

rha_sentinel_config() { # uses $RHA_I
  rha_config_head "sentinel$RHA_I" "$(rha_sentinel_port "$RHA_I")"
  echo "daemonize no"
  REDIS_HA_MASTER=$REDIS_HA_MASTER REDIS_HA_PRIMARY_HOST=127.0.0.1 REDIS_HA_PRIMARY_PORT=$REDIS_HA_ANNOUNCE_PORT \
    "$CONFIG/render" "$CONFIG/redis/sentinel.conf.tmpl"
}

# Debian's redis-sentinel is the same binary as redis-server (`redis-server <conf> --sentinel`).
rha_sentinel_packages() { bin redis-sentinel >/dev/null || bin redis-server >/dev/null || echo redis-sentinel; }
rha_sentinel_start() {
  local conf; conf=$(RHA_I=$1 rha_conf "sentinel$1" "$(rha_sentinel_port "$1")" rha_sentinel_config)
  local cmd=("$(bin redis-server)" "$conf" --sentinel)
  if bin redis-sentinel >/dev/null; then cmd=("$(bin redis-sentinel)" "$conf"); fi
  (cd "$(rha_dir "sentinel$1")" && start_bg "sentinel$1" "${cmd[@]}")
}
rha_sentinel_ready() { [[ $(rha_cli "$(rha_sentinel_port "$1")" ping) == PONG ]]; }
# This Sentinel knows the primary, the replicas and the other Sentinels that are running.
rha_sentinel_sees() {
  local i info flags replicas sentinels want_r=-1 want_s=-1
  for (( i = 1; i <= REDIS_HA_NODES; i++ )); do
    svc_pid "redis$i" >/dev/null && want_r=$(( want_r + 1 ))
    svc_pid "sentinel$i" >/dev/null && want_s=$(( want_s + 1 ))
  done
  info=$(rha_cli "$(rha_sentinel_port "$1")" sentinel master "$REDIS_HA_MASTER" | tr -d '\r' | paste -d= - -)
  flags=$(sed -n 's/^flags=//p' <<<"$info")
  replicas=$(sed -n 's/^num-slaves=//p' <<<"$info")
  sentinels=$(sed -n 's/^num-other-sentinels=//p' <<<"$info")
  [[ $flags == master ]] && (( ${replicas:-0} >= want_r && ${sentinels:-0} >= want_s ))
}
rha_sentinel_after() {
  rha_wait 20 "sentinel$1's view of $REDIS_HA_MASTER (primary, replicas, other Sentinels)" rha_sentinel_sees "$1"
}

# ---------------------------------------------------------------------------------------------
# the six services: x_<fn> calls rha_<kind>_<fn> with the index

for (( RHA_I = 1; RHA_I <= REDIS_HA_NODES; RHA_I++ )); do
  eval "
    redis${RHA_I}_port()         { rha_node_port $RHA_I; }
    redis${RHA_I}_packages()     { rha_node_packages; }
    redis${RHA_I}_owns()         { rha_owns \"\$1\" redis$RHA_I; }
    redis${RHA_I}_start()        { rha_node_start $RHA_I; }
    redis${RHA_I}_ready()        { rha_node_ready $RHA_I; }
    redis${RHA_I}_after()        { rha_node_after $RHA_I; }
    sentinel${RHA_I}_port()      { rha_sentinel_port $RHA_I; }
    sentinel${RHA_I}_packages()  { rha_sentinel_packages; }
    sentinel${RHA_I}_owns()      { rha_owns \"\$1\" sentinel$RHA_I; }
    sentinel${RHA_I}_start()     { rha_sentinel_start $RHA_I; }
    sentinel${RHA_I}_ready()     { rha_sentinel_ready $RHA_I; }
    sentinel${RHA_I}_after()     { rha_sentinel_after $RHA_I; }
  "
  for RHA_KIND in redis sentinel; do
    eval "
      ${RHA_KIND}${RHA_I}_url_var()      { echo REDIS_SENTINELS; }
      ${RHA_KIND}${RHA_I}_url()          { rha_url; }
      ${RHA_KIND}${RHA_I}_stop_timeout() { echo 15; }
      ${RHA_KIND}${RHA_I}_env()          { :; }
    "
  done
done
# Clients find the primary through the Sentinels: one pair of lines for the six services.
# (%q would escape the commas: host:port lists need no quoting, anything else gets it)
rha_export() {
  if [[ $2 =~ ^[][A-Za-z0-9.:,_-]+$ ]]; then printf 'export %s=%s\n' "$1" "$2"
  else printf 'export %s=%q\n' "$1" "$2"; fi
}
sentinel1_env() {
  rha_export REDIS_SENTINELS "$(rha_url)"
  rha_export REDIS_SENTINEL_MASTER "$REDIS_HA_MASTER"
}
unset RHA_I RHA_KIND

# Nodes first (the primary before its replicas), then the Sentinels; `down` stops them in reverse.
HA_SERVICES+=(redis1 redis2 redis3 sentinel1 sentinel2 sentinel3)
