# shellcheck shell=bash
# Alertmanager, the node exporter and the process exporter (optional, both profiles): sourced by
# infra/local/stack.
#
#   infra/local/stack up prometheus alertmanager node-exporter process-exporter
#
#   ALERTMANAGER_PORT         Alertmanager's API and UI (9094; Kafka's controller holds its usual 9093).
#                             infra/prometheus/prometheus.yml sends its alerts to 127.0.0.1:9094.
#   ALERTMANAGER_CONFIG       routing, grouping, inhibition (default infra/alertmanager/alertmanager.yml)
#   ALERTMANAGER_WEBHOOK_URL  where the critical receiver posts (Alertmanager's webhook JSON); the
#                             default is the placeholder in that file, which nothing serves
#   ALERTMANAGER_WARNING_WEBHOOK_URL  the warning receiver's, default ALERTMANAGER_WEBHOOK_URL
#   NODE_EXPORTER_PORT        Debian's prometheus-node-exporter (9100), scraped by Prometheus (job node)
#   LINK_SPEED_MBIT           the speed of every network interface but lo, for the utilisation alert
#                             (1000); a container's veth reports none, so it is configured, not read
#   PROCESS_EXPORTER_PORT     Debian's prometheus-process-exporter (9256), scraped by Prometheus (job
#                             process): CPU and memory of each process under test, grouped by
#                             infra/prometheus/process-exporter.yml (rendered into $STACK_HOME/data)
# Alertmanager's config is rendered into $STACK_HOME/data/alertmanager/ with the URLs substituted
# (it reads no environment); the link speed goes to the exporter's textfile directory.

ALERTMANAGER_PORT="${ALERTMANAGER_PORT:-9094}"
ALERTMANAGER_CONFIG="${ALERTMANAGER_CONFIG:-$ROOT/infra/alertmanager/alertmanager.yml}"
# The placeholder both receivers carry in alertmanager.yml; `up` replaces it.
ALERTMANAGER_PLACEHOLDER_URL="http://127.0.0.1:9097/alerts"
NODE_EXPORTER_PORT="${NODE_EXPORTER_PORT:-9100}"
LINK_SPEED_MBIT="${LINK_SPEED_MBIT:-1000}"
PROCESS_EXPORTER_PORT="${PROCESS_EXPORTER_PORT:-9256}"
OPTIONAL+=(alertmanager node-exporter process-exporter)
SYSTEM_UNITS_OFF+=(prometheus-alertmanager prometheus-node-exporter prometheus-process-exporter)

alertmanager_port()         { echo "$ALERTMANAGER_PORT"; }
alertmanager_url_var()      { echo ALERTMANAGER_URL; }
alertmanager_url()          { echo "${ALERTMANAGER_URL:-http://127.0.0.1:$ALERTMANAGER_PORT}"; }
alertmanager_packages()     { { bin prometheus-alertmanager && bin amtool; } >/dev/null || echo prometheus-alertmanager; }
alertmanager_owns()         { cmdline_has "$1" "--storage.path=$DATA/alertmanager"; }
alertmanager_stop_timeout() { echo 10; }
alertmanager_ready()        { curl -fsS "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" >/dev/null 2>&1; }
alertmanager_after()        { say "alertmanager: $(alertmanager_url) (critical -> ${ALERTMANAGER_WEBHOOK_URL:-$ALERTMANAGER_PLACEHOLDER_URL})"; }

# sed_literal <text>: the text as a sed replacement (& and the | delimiter escaped).
sed_literal() { printf '%s' "$1" | sed -e 's/[&|\\]/\\&/g'; }

alertmanager_write_config() {
  local critical="${ALERTMANAGER_WEBHOOK_URL:-$ALERTMANAGER_PLACEHOLDER_URL}"
  local warning="${ALERTMANAGER_WARNING_WEBHOOK_URL:-$critical}"
  critical=$(sed_literal "$critical"); warning=$(sed_literal "$warning")
  mkdir -p "$DATA/alertmanager"
  [[ -f $ALERTMANAGER_CONFIG ]] || die "alertmanager: no config at $ALERTMANAGER_CONFIG"
  # The critical receiver's url line is marked "# critical"; every other placeholder is the warning one.
  sed -e "s|$ALERTMANAGER_PLACEHOLDER_URL\(.*# critical\)|$critical\1|" \
      -e "s|$ALERTMANAGER_PLACEHOLDER_URL|$warning|" \
      "$ALERTMANAGER_CONFIG" >"$DATA/alertmanager/alertmanager.yml"
  "$(bin amtool)" check-config "$DATA/alertmanager/alertmanager.yml" >>"$LOGS/alertmanager.log" 2>&1 \
    || { tail -n 20 "$LOGS/alertmanager.log" >&2; die "alertmanager: configuration check failed"; }
}

alertmanager_start() {
  mkdir -p "$LOGS"
  alertmanager_write_config
  # No cluster: one instance, and its gossip port (9094 by default) would collide.
  start_bg alertmanager "$(bin prometheus-alertmanager)" \
    --config.file="$DATA/alertmanager/alertmanager.yml" --storage.path="$DATA/alertmanager" \
    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address=
}

node-exporter_port()         { echo "$NODE_EXPORTER_PORT"; }
node-exporter_url_var()      { echo NODE_EXPORTER_URL; }
node-exporter_url()          { echo "${NODE_EXPORTER_URL:-http://127.0.0.1:$NODE_EXPORTER_PORT}"; }
node-exporter_packages()     { bin prometheus-node-exporter >/dev/null || echo prometheus-node-exporter; }
node-exporter_owns()         { cmdline_has "$1" "--collector.textfile.directory=$DATA/node-exporter"; }
node-exporter_stop_timeout() { echo 10; }
node-exporter_ready()        { curl -fsS "http://127.0.0.1:$NODE_EXPORTER_PORT/metrics" >/dev/null 2>&1; }
node-exporter_after()        { say "node-exporter: $(node-exporter_url)/metrics (links at ${LINK_SPEED_MBIT} Mbit/s)"; }

# link_speed_configured_bytes{device}: bytes/s of each interface but lo, read by the utilisation rule.
node-exporter_write_links() {
  local dir="$DATA/node-exporter" dev
  [[ $LINK_SPEED_MBIT =~ ^[0-9]+$ ]] || die "node-exporter: LINK_SPEED_MBIT must be a number of Mbit/s (got '$LINK_SPEED_MBIT')"
  mkdir -p "$dir"
  {
    echo "# HELP link_speed_configured_bytes Configured link speed in bytes/s (LINK_SPEED_MBIT, infra/local/stack.d/alerting.sh)."
    echo "# TYPE link_speed_configured_bytes gauge"
    for dev in /sys/class/net/*; do
      dev=${dev##*/}
      [[ $dev == lo ]] || echo "link_speed_configured_bytes{device=\"$dev\"} $(( LINK_SPEED_MBIT * 125000 ))"
    done
  } >"$dir/links.prom.tmp"
  mv "$dir/links.prom.tmp" "$dir/links.prom"
}

node-exporter_start() {
  node-exporter_write_links
  # Only what the rules and the report read: a full default set costs CPU on every scrape. Loopback
  # included: on one machine the load test's traffic is all there.
  start_bg node-exporter "$(bin prometheus-node-exporter)" \
    --web.listen-address="127.0.0.1:$NODE_EXPORTER_PORT" --collector.disable-defaults \
    --collector.cpu --collector.meminfo --collector.netdev --collector.loadavg --collector.pressure \
    --collector.textfile --collector.textfile.directory="$DATA/node-exporter" \
    --collector.netdev.device-exclude='^$'
}

process-exporter_port()         { echo "$PROCESS_EXPORTER_PORT"; }
process-exporter_url_var()      { echo PROCESS_EXPORTER_URL; }
process-exporter_url()          { echo "${PROCESS_EXPORTER_URL:-http://127.0.0.1:$PROCESS_EXPORTER_PORT}"; }
process-exporter_packages()     { bin prometheus-process-exporter >/dev/null || echo prometheus-process-exporter; }
process-exporter_owns()         { cmdline_has "$1" "-config.path=$DATA/process-exporter/"; }
process-exporter_stop_timeout() { echo 10; }
process-exporter_ready()        { curl -fsS "http://127.0.0.1:$PROCESS_EXPORTER_PORT/metrics" >/dev/null 2>&1; }
process-exporter_after()        { say "process-exporter: $(process-exporter_url)/metrics"; }

process-exporter_start() {
  local dir="$DATA/process-exporter"
  mkdir -p "$dir"
  sed -e "s|@ROOT@|$ROOT|g" -e "s|@LOCAL@|$LOCAL|g" -e "s|@DATA@|$DATA|g" -e "s|@REDIS_PORT@|$REDIS_PORT|g" \
    "$ROOT/infra/prometheus/process-exporter.yml" >"$dir/process-exporter.yml"
  # Per group, neither per thread nor from smaps: those cost a scrape a lot and nothing reads them.
  start_bg process-exporter "$(bin prometheus-process-exporter)" -config.path="$dir/process-exporter.yml" \
    -web.listen-address="127.0.0.1:$PROCESS_EXPORTER_PORT" -threads=false -gather-smaps=false
}
