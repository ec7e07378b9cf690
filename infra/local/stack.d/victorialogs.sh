# shellcheck shell=bash
# VictoriaLogs (optional, both profiles): the log store the services ship their pino lines to when
# LOG_SHIP_URL is set (libs/kit's LogShipper, JSON-lines ingestion). Sourced by infra/local/stack.
#
#   infra/local/stack up victorialogs    builds it once with `go install` into .local/bin, starts it
#   VICTORIALOGS_PORT (9428)             its HTTP API and web UI (http://127.0.0.1:9428/select/vmui/)
#   VICTORIALOGS_RETENTION (7d)          how long lines are kept
# Then: export LOG_SHIP_URL=http://127.0.0.1:9428 before starting the services; docs/logs.md has the
# queries. Not started by a bare `up`: files stay the quick start's logs.

VICTORIALOGS_MODULE="github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs"
VICTORIALOGS_VERSION="${VICTORIALOGS_VERSION:-v1.52.2}"
VICTORIALOGS_PORT="${VICTORIALOGS_PORT:-9428}"
VICTORIALOGS_RETENTION="${VICTORIALOGS_RETENTION:-7d}"
# The binary is shared by every STACK_HOME of this checkout (a test's private copy links it).
VICTORIALOGS_BIN="${VICTORIALOGS_BIN:-$ROOT/.local/bin/victoria-logs}"
OPTIONAL+=(victorialogs)

victorialogs_port()         { echo "$VICTORIALOGS_PORT"; }
victorialogs_url_var()      { echo LOG_SHIP_URL; }
victorialogs_url()          { echo "${LOG_SHIP_URL:-http://127.0.0.1:$VICTORIALOGS_PORT}"; }
# Go comes from the machine (a newer one than Debian packages is needed); victorialogs_build says so.
victorialogs_packages()     { :; }
victorialogs_owns()         { cmdline_has "$1" "-storageDataPath=$DATA/victorialogs"; }
victorialogs_stop_timeout() { echo 15; }
victorialogs_ready()        { [[ $(curl -fsS "http://127.0.0.1:$VICTORIALOGS_PORT/health" 2>/dev/null) == OK ]]; }
victorialogs_after() {
  say "victorialogs: $(victorialogs_url) (UI: $(victorialogs_url)/select/vmui/); export LOG_SHIP_URL=$(victorialogs_url)"
}

# go install, once per version (the Go module proxy serves it; a version stamp beside the binary).
victorialogs_build() {
  local stamp="$VICTORIALOGS_BIN.version"
  [[ -x $VICTORIALOGS_BIN && -f $stamp && $(<"$stamp") == "$VICTORIALOGS_VERSION" ]] && return 0
  command -v go >/dev/null || die "victorialogs: needs Go to build $VICTORIALOGS_MODULE@$VICTORIALOGS_VERSION"
  say "victorialogs: building $VICTORIALOGS_MODULE@$VICTORIALOGS_VERSION with go install (one-off, about 2 minutes)"
  mkdir -p "$(dirname "$VICTORIALOGS_BIN")"
  GOBIN="$(dirname "$VICTORIALOGS_BIN")" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "$VICTORIALOGS_MODULE@$VICTORIALOGS_VERSION" >>"$LOGS/victorialogs.log" 2>&1 \
    || { tail -n 20 "$LOGS/victorialogs.log" >&2; die "victorialogs: go install failed"; }
  echo "$VICTORIALOGS_VERSION" >"$stamp"
}

victorialogs_start() {
  mkdir -p "$DATA/victorialogs" "$LOGS"
  victorialogs_build
  start_bg victorialogs "$VICTORIALOGS_BIN" -storageDataPath="$DATA/victorialogs" \
    -httpListenAddr="127.0.0.1:$VICTORIALOGS_PORT" -retentionPeriod="$VICTORIALOGS_RETENTION" \
    -loggerLevel=WARN
}
