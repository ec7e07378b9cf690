# shellcheck shell=bash
# Sourced by infra/local/stack: the ha profile's MySQL, a three-node MariaDB Galera cluster (Debian's
# mariadb-server and galera-4) behind an HAProxy of its own (docs/decisions/0013-galera-behind-haproxy.md).
#
#   galera1 galera2 galera3   data nodes, synchronous (virtually) replication; galera1 bootstraps
#                             the cluster on a first start, the others join it by SST (mariadb-backup)
#   dbproxy                   HAProxy: a writer port that sends every connection to ONE node (the
#                             others are backups; a stick table keeps the writer where it failed over
#                             to) and a reader port that spreads connections over the other nodes
#
# Ports: MARIADB_HA_PORT (3311: nodes on 3311..3313), MARIADB_HA_GALERA_PORT (4571: node i uses
# +10(i-1) for group communication, +1 for IST, +2 for SST), DB_PROXY_PORT (3308, writes and the
# quantity guard: DATABASE_URL), DB_PROXY_READ_PORT (3309, reads: DATABASE_READ_URL).
# GALERA_SUSPECT_MS (1500): how long a silent node may be before the others suspect it (evs).
# `stack --ha env` prints DATABASE_URL and DATABASE_READ_URL (the proxy's two ports). Setting
# DATABASE_URL yourself means "use that": none of these is started.
#
# A node that is the first of ours to start bootstraps a new primary component (--wsrep-new-cluster)
# from its data; any other node joins the running ones (IST when it has their history, SST if not).

MARIADB_HA_PORT="${MARIADB_HA_PORT:-3311}"
MARIADB_HA_GALERA_PORT="${MARIADB_HA_GALERA_PORT:-4571}"
DB_PROXY_PORT="${DB_PROXY_PORT:-3308}"
DB_PROXY_READ_PORT="${DB_PROXY_READ_PORT:-3309}"
GALERA_SUSPECT_MS="${GALERA_SUSPECT_MS:-1500}"
GALERA_NODES=3
GALERA_PROVIDER="${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"
DB_PROXY_DIR="$DATA/dbproxy"
DB_PROXY_SOCKET="$RUN/dbproxy.sock"

gal_dir()       { echo "$DATA/galera/node$1"; }
gal_port()      { echo $(( MARIADB_HA_PORT + $1 - 1 )); }
gal_gcomm()     { echo $(( MARIADB_HA_GALERA_PORT + ($1 - 1) * 10 )); }
gal_sock()      {
  local s="$RUN/galera$1.sock"
  (( ${#s} <= 100 )) || s="/tmp/coupon-galera$1-$(printf '%s' "$RUN" | md5sum | cut -c1-8).sock"
  echo "$s"
}
gal_root()      { mariadb --no-defaults --protocol=socket --socket="$(gal_sock "$1")" -uroot "${@:2}"; }
gal_status()    { gal_root "$1" -N -B -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2; }
gal_url()       { echo "${DATABASE_URL:-mysql://coupon:coupon@127.0.0.1:$DB_PROXY_PORT/coupon}"; }
gal_read_url()  { echo "${DATABASE_READ_URL:-mysql://coupon:coupon@127.0.0.1:$DB_PROXY_READ_PORT/coupon}"; }
gal_owns()      { cmdline_has "$1" "--datadir=$(gal_dir "$2") "; }
gal_packages() {
  { bin mariadbd && bin mariadb-install-db && bin mariadb; } >/dev/null || echo mariadb-server
  [[ -f $GALERA_PROVIDER ]] || echo galera-4
  command -v mariadb-backup >/dev/null || echo mariadb-backup; command -v socat >/dev/null || echo socat
}
gal_cluster_address() {
  local i out=()
  for (( i = 1; i <= GALERA_NODES; i++ )); do out+=("127.0.0.1:$(gal_gcomm "$i")"); done
  local IFS=,; echo "gcomm://${out[*]}"
}
gal_peer_running() {
  local i
  for (( i = 1; i <= GALERA_NODES; i++ )); do
    (( i == $1 )) && continue
    svc_pid "galera$i" >/dev/null && return 0
  done
  return 1
}

# gal_args <i>: mariadbd's options for node i (no bootstrap or start-position flag).
gal_args() {
  local i=$1 dir g; dir=$(gal_dir "$i"); g=$(gal_gcomm "$i")
  # Failure detection: a node silent for GALERA_SUSPECT_MS is suspected, evicted soon after.
  local suspect inactive opts
  suspect="PT$(awk "BEGIN{print $GALERA_SUSPECT_MS/1000}")S"
  inactive="PT$(awk "BEGIN{print 2*$GALERA_SUSPECT_MS/1000}")S"
  opts="base_host=127.0.0.1;base_port=$g;gmcast.listen_addr=tcp://127.0.0.1:$g"
  opts+=";ist.recv_addr=127.0.0.1:$((g + 1));evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S"
  opts+=";evs.suspect_timeout=$suspect;evs.inactive_timeout=$inactive;evs.install_timeout=$inactive"
  opts+=";gcache.size=128M"
  GAL_ARGS=(--no-defaults "${MARIADB_USER_OPT[@]}"
    --datadir="$dir" --socket="$(gal_sock "$i")" --pid-file="$RUN/galera$i.mariadb.pid"
    --port="$(gal_port "$i")" --bind-address=127.0.0.1 --skip-name-resolve
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
    --max-connections=300 --innodb-buffer-pool-size=64M --innodb-log-file-size=48M
    --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0
    --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2
    --wsrep-on=ON --wsrep-provider="$GALERA_PROVIDER" --wsrep-cluster-name=coupon
    --wsrep-node-name="galera$i" --wsrep-node-address="127.0.0.1:$g"
    --wsrep-cluster-address="$(gal_cluster_address)" --wsrep-provider-options="$opts"
    --wsrep-sst-method=mariabackup --wsrep-sst-auth=root: --wsrep-sst-receive-address="127.0.0.1:$((g + 2))"
    --wsrep-slave-threads=2)
}

# Once: node 1 is installed, bootstrapped alone, given the database and users, and stopped cleanly;
# its datadir is then copied to the other nodes, so every node starts with the same history and a
# join needs no full state transfer (SST), only the writesets it missed (IST from a donor's gcache).
gal_seed() {
  [[ -f $DATA/galera/.seeded ]] && return 0
  local d1 pid i t; d1=$(gal_dir 1)
  say "galera: seeding the cluster's first datadir ($d1) and copying it to the other nodes"
  rm -rf "$DATA/galera"; mkdir -p "$d1" "$LOGS"
  "$(bin mariadb-install-db)" --no-defaults --datadir="$d1" "${MARIADB_USER_OPT[@]}" \
    --auth-root-authentication-method=normal --skip-test-db >>"$LOGS/galera1.log" 2>&1 \
    || { tail -n 30 "$LOGS/galera1.log" >&2; die "galera1: mariadb-install-db failed"; }
  gal_args 1
  start_bg galera1 "$(bin mariadbd)" "${GAL_ARGS[@]}" --wsrep-new-cluster
  wait_ready galera1 120
  # the services' database and user (shared with the single server), then the one HAProxy's
  # mysql-check logs in as: no password, no privilege, it runs nothing
  { cat "$CONFIG/mariadb/users.sql"; echo "CREATE USER IF NOT EXISTS 'haproxy'@'127.0.0.1';"; } | gal_root 1 \
    || die "galera1: creating the database and users failed"
  pid=$(svc_pid galera1) || die "galera1: not running after the seed"
  kill -TERM "$pid"
  for (( t = 0; t < 300; t++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  rm -f "$RUN/galera1.pid"
  grep -q '^safe_to_bootstrap: 1' "$d1/grastate.dat" || die "galera1: did not stop cleanly during the seed"
  for (( i = 2; i <= GALERA_NODES; i++ )); do
    cp -a "$d1" "$(gal_dir "$i")"
    sed -i 's/^safe_to_bootstrap: 1/safe_to_bootstrap: 0/' "$(gal_dir "$i")/grastate.dat"
  done
  touch "$DATA/galera/.seeded"
}

gal_start() {
  local i=$1 dir extra=() pos; dir=$(gal_dir "$i")
  gal_seed
  gal_args "$i"
  # After a crash (kill -9) grastate.dat has no position: recover it from InnoDB, as Debian's
  # galera_recovery does, so the node asks for the writesets it missed (IST) instead of a full copy.
  if grep -q '^seqno: *-1' "$dir/grastate.dat" 2>/dev/null; then
    pos=$("$(bin mariadbd)" "${GAL_ARGS[@]}" --wsrep-recover --log-error="$dir/recover.log" >/dev/null 2>&1; \
      sed -n 's/.*WSREP: Recovered position: *\([^ ]*\).*/\1/p' "$dir/recover.log" | tail -n1)
    if [[ -n $pos ]]; then say "galera$i: recovered position $pos after a crash"; extra+=(--wsrep-start-position="$pos"); fi
  fi
  if ! gal_peer_running "$i"; then
    # The first of our nodes to start forms the primary component from its own data.
    if ! grep -q '^safe_to_bootstrap: 1' "$dir/grastate.dat"; then
      say "galera$i: no other node is running; bootstrapping from this node's data (it was not the last to stop)"
      sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$dir/grastate.dat"
    fi
    extra+=(--wsrep-new-cluster)
  fi
  start_bg "galera$i" "$(bin mariadbd)" "${GAL_ARGS[@]}" "${extra[@]}"
}

# Ready = this node is Synced with a primary component (a joiner passes Joining/Joined first).
gal_ready() {
  [[ $(gal_status "$1" wsrep_local_state_comment) == Synced && $(gal_status "$1" wsrep_cluster_status) == Primary ]]
}

gal_after() {
  say "galera$1: $(gal_status "$1" wsrep_local_state_comment), cluster size $(gal_status "$1" wsrep_cluster_size)"
}

# ---------------------------------------------------------------------------------------------
# dbproxy: HAProxy in TCP mode with MySQL health checks

dbproxy_port()         { echo "$DB_PROXY_PORT"; }
dbproxy_url_var()      { echo DATABASE_URL; }
dbproxy_url()          { gal_url; }
dbproxy_packages()     { bin haproxy >/dev/null || echo haproxy; command -v socat >/dev/null || echo socat; }
dbproxy_owns()         { cmdline_has "$1" "$DB_PROXY_DIR/haproxy.cfg"; }
dbproxy_stop_timeout() { echo 10; }
dbproxy_ready() {
  port_open "$DB_PROXY_PORT" && port_open "$DB_PROXY_READ_PORT" || return 1
  printf 'show servers state db_writer\n' | socat -t 2 - "UNIX-CONNECT:$DB_PROXY_SOCKET" 2>/dev/null | grep -q db_writer
}
dbproxy_after() { say "dbproxy: writes $(gal_url), reads $(gal_read_url) (admin socket $DB_PROXY_SOCKET)"; }

dbproxy_write_config() {
  local i
  mkdir -p "$DB_PROXY_DIR"
  {
    cat <<EOF
# generated by infra/local/stack (stack.d/mariadb-ha.sh) — edits are overwritten
global
    maxconn 2000
    nbthread 1
    stats socket $DB_PROXY_SOCKET mode 600 level admin

defaults
    mode tcp
    timeout connect 1s
    timeout client 1h
    timeout server 1h
    timeout check 500ms
    # a check every 500 ms, down after 2 failures, up after 2 successes
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions

# Writes and the quantity guard: ONE node at a time. The stick table remembers the node in use, so
# after a failover the writer stays on the promoted node when the old one comes back (no flapping).
frontend db_write
    bind 127.0.0.1:$DB_PROXY_PORT
    default_backend db_writer

backend db_writer
    option mysql-check user haproxy post-41
    stick-table type integer size 1
    stick on int(1)
EOF
    for (( i = 1; i <= GALERA_NODES; i++ )); do
      if (( i == 1 )); then echo "    server galera$i 127.0.0.1:$(gal_port "$i") check"
      else echo "    server galera$i 127.0.0.1:$(gal_port "$i") check backup"; fi
    done
    cat <<EOF

# Reads (status, statistics): spread over the nodes that are not the first writer; it as a last resort.
frontend db_read
    bind 127.0.0.1:$DB_PROXY_READ_PORT
    default_backend db_reader

backend db_reader
    option mysql-check user haproxy post-41
    balance leastconn
EOF
    for (( i = 1; i <= GALERA_NODES; i++ )); do
      if (( i == 1 )); then echo "    server galera$i 127.0.0.1:$(gal_port "$i") check backup"
      else echo "    server galera$i 127.0.0.1:$(gal_port "$i") check"; fi
    done
  } >"$DB_PROXY_DIR/haproxy.cfg"
}

dbproxy_start() {
  dbproxy_write_config
  (( ${#DB_PROXY_SOCKET} <= 100 )) || die "dbproxy: admin socket path too long for a unix socket: $DB_PROXY_SOCKET"
  mkdir -p "$LOGS"
  "$(bin haproxy)" -c -q -f "$DB_PROXY_DIR/haproxy.cfg" >>"$LOGS/dbproxy.log" 2>&1 \
    || { tail -n 20 "$LOGS/dbproxy.log" >&2; die "dbproxy: configuration check failed"; }
  start_bg dbproxy "$(bin haproxy)" -db -f "$DB_PROXY_DIR/haproxy.cfg"
}

# ---------------------------------------------------------------------------------------------
# the three nodes: galeraN_<fn> calls gal_<fn> with the index

for (( GAL_I = 1; GAL_I <= GALERA_NODES; GAL_I++ )); do
  eval "
    galera${GAL_I}_port()         { gal_port $GAL_I; }
    galera${GAL_I}_url_var()      { echo DATABASE_URL; }
    galera${GAL_I}_url()          { gal_url; }
    galera${GAL_I}_packages()     { gal_packages; }
    galera${GAL_I}_owns()         { gal_owns \"\$1\" $GAL_I; }
    galera${GAL_I}_stop_timeout() { echo 60; }
    galera${GAL_I}_start()        { gal_start $GAL_I; }
    galera${GAL_I}_ready()        { gal_ready $GAL_I; }
    galera${GAL_I}_after()        { gal_after $GAL_I; }
    galera${GAL_I}_env()          { :; }
  "
done
unset GAL_I
# The services reach the cluster only through the proxy: writes on one port, reads on the other.
dbproxy_env() {
  printf 'export DATABASE_URL=%q\n' "$(gal_url)"
  printf 'export DATABASE_READ_URL=%q\n' "$(gal_read_url)"
}

# In the ha profile the cluster replaces the single MariaDB; the nodes first, then their proxy.
GAL_REST=()
for GAL_S in "${HA_SERVICES[@]}"; do [[ $GAL_S == mariadb ]] || GAL_REST+=("$GAL_S"); done
HA_SERVICES=(galera1 galera2 galera3 dbproxy "${GAL_REST[@]}")
unset GAL_REST GAL_S
