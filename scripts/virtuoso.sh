#!/usr/bin/env bash
# A private Virtuoso Open Source instance for exomirkg's external-engine backend.
#
#   scripts/virtuoso.sh install             apt-get install virtuoso-opensource (Debian 7.2.5)
#   scripts/virtuoso.sh start DIR PORT      start on 127.0.0.1:PORT (SPARQL at /sparql) with its
#                                           own database in DIR; waits until it answers
#   scripts/virtuoso.sh load DIR TRIG       bulk-load a built exomirkg.trig, named graphs kept
#   scripts/virtuoso.sh stop DIR            stop the instance started in DIR (pid file only)
#   scripts/virtuoso.sh status DIR          exit 0 when the instance in DIR is running
#
# Settings (environment): ISQL_PORT (default PORT+1, bound to 127.0.0.1),
# VIRTUOSO_MAX_ROWS (ResultSetMaxRows, default 100000), VIRTUOSO_BUFFERS (NumberOfBuffers,
# 8 KiB each, default 20000), VIRTUOSO_TIMEOUT (seconds to wait for start, default 60),
# PYTHON (an interpreter with pyoxigraph, to turn TriG into N-Quads; default python3).
#
# Virtuoso quirks handled here:
# - ResultSetMaxRows silently truncates SELECT results; its value is written to DIR/max-rows
#   so the exomirkg backend can tell a full answer from a capped one.
# - The bulk loader names graphs by file, not by TriG's GRAPH blocks: we load N-Quads
#   (graph from the 4th term), which also keeps blank nodes shared between named graphs.
# - The anonymous SPARQL user gets no update or LOAD/SERVICE rights, and the DBA password is
#   random per instance (DIR/dba.password, mode 600), so nothing on 127.0.0.1 can write.
set -euo pipefail

die() { echo "virtuoso.sh: $*" >&2; exit 1; }

need_binaries() {
  command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null \
    || die "virtuoso-t/isql-vt not found: run 'scripts/virtuoso.sh install' (as root)"
}

# isql DIR SQL... : run statements as dba on the instance's private ISQL port.
isql() {
  local dir=$1; shift
  isql-vt "127.0.0.1:$(cat "$dir/isql.port")" dba "$(cat "$dir/dba.password")" \
    VERBOSE=OFF BANNER=OFF PROMPT=OFF ECHO=OFF ERRORS=STDOUT exec="$*" </dev/null
}

running() {
  local dir=$1 pid
  [ -f "$dir/virtuoso.pid" ] || return 1
  pid=$(cat "$dir/virtuoso.pid")
  # The pid must still be our virtuoso-t with our ini (a recycled pid is left alone).
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "virtuoso-t.*$dir/virtuoso.ini"
}

cmd_install() {
  if command -v virtuoso-t >/dev/null; then
    echo "virtuoso already installed: $(command -v virtuoso-t)"
    return
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y virtuoso-opensource \
    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y virtuoso-opensource; }
}

write_ini() {
  local dir=$1 port=$2 isql_port=$3
  cat >"$dir/virtuoso.ini" <<EOF
; Written by scripts/virtuoso.sh for one private exomirkg instance.
[Database]
DatabaseFile       = $dir/virtuoso.db
ErrorLogFile       = $dir/virtuoso.log
LockFile           = $dir/virtuoso.lck
TransactionFile    = $dir/virtuoso.trx
xa_persistent_file = $dir/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = $dir/virtuoso-temp.db
TransactionFile    = $dir/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:$isql_port
DisableUnixSocket        = 1
DisableTcpSocket         = 0
MaxClientConnections     = 10
CheckpointInterval       = 60
CaseMode                 = 2
AllowOSCalls             = 0
DirsAllowed              = ., $dir, /usr/share/virtuoso-opensource-7/vad
NumberOfBuffers          = ${VIRTUOSO_BUFFERS:-20000}
MaxDirtyBuffers          = $(( ${VIRTUOSO_BUFFERS:-20000} * 3 / 4 ))
MaxQueryMem              = 1G
ThreadsPerQuery          = 2
AsyncQueueMaxThreads     = 4
VADInstallDir            = /usr/share/virtuoso-opensource-7/vad/

[HTTPServer]
ServerPort                  = 127.0.0.1:$port
ServerRoot                  = /var/lib/virtuoso-opensource-7/vsp
MaxClientConnections        = 10
ServerThreads               = 10
MaxKeepAlives               = 10
KeepAliveTimeout            = 10
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
Charset                     = UTF-8
EnabledGzipContent          = 0

[SPARQL]
ResultSetMaxRows           = ${VIRTUOSO_MAX_ROWS:-100000}
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime      = 60
DefaultGraph               =
EOF
}

cmd_start() {
  [ $# -ge 2 ] || die "usage: start DIR PORT"
  need_binaries
  mkdir -p "$1"
  local dir port=$2 isql_port deadline
  dir=$(cd "$1" && pwd)
  isql_port=${ISQL_PORT:-$((port + 1))}
  if running "$dir"; then
    echo "virtuoso already running in $dir (pid $(cat "$dir/virtuoso.pid"))"
    return
  fi
  write_ini "$dir" "$port" "$isql_port"
  echo "$port" >"$dir/http.port"
  echo "$isql_port" >"$dir/isql.port"
  echo "${VIRTUOSO_MAX_ROWS:-100000}" >"$dir/max-rows"
  # Foreground mode so $! is the server itself; setsid so a Ctrl-C in the caller's
  # terminal does not reach it, and stop is the one way it ends.
  (cd "$dir" && exec setsid virtuoso-t +foreground +configfile "$dir/virtuoso.ini" \
     >"$dir/stdout.log" 2>&1) &
  echo $! >"$dir/virtuoso.pid"
  deadline=$(( $(date +%s) + ${VIRTUOSO_TIMEOUT:-60} ))
  # A fresh database starts with the password "dba"; a restarted one keeps ours.
  [ -f "$dir/dba.password" ] || echo dba >"$dir/dba.password"
  chmod 600 "$dir/dba.password"
  until isql "$dir" "status();" >/dev/null 2>&1; do
    running "$dir" || { tail -20 "$dir/virtuoso.log" "$dir/stdout.log" >&2 2>/dev/null; die "virtuoso exited during start (log: $dir/virtuoso.log)"; }
    [ "$(date +%s)" -lt "$deadline" ] || { cmd_stop "$dir"; die "virtuoso did not answer on ISQL port $isql_port within ${VIRTUOSO_TIMEOUT:-60}s"; }
    sleep 0.5
  done
  if [ "$(cat "$dir/dba.password")" = dba ]; then
    local password
    # Starts with a letter: isql reads a bare word starting with a digit as a number
    # (and the login then fails).
    password=p$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    isql "$dir" "set password dba $password;" >/dev/null
    echo "$password" >"$dir/dba.password"
  fi
  # Read-only for the anonymous SPARQL user (these grants may be absent: errors ignored).
  isql "$dir" "REVOKE SPARQL_UPDATE FROM \"SPARQL\";" >/dev/null 2>&1 || true
  isql "$dir" "REVOKE SPARQL_LOAD_SERVICE_DATA FROM \"SPARQL\";" >/dev/null 2>&1 || true
  isql "$dir" "REVOKE SPARQL_SPONGE FROM \"SPARQL\";" >/dev/null 2>&1 || true
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/sparql?query=ASK%7B%7D"; do
    [ "$(date +%s)" -lt "$deadline" ] || { cmd_stop "$dir"; die "virtuoso HTTP port $port did not answer within ${VIRTUOSO_TIMEOUT:-60}s"; }
    sleep 0.5
  done
  echo "virtuoso running: sparql+http://127.0.0.1:$port/sparql (pid $(cat "$dir/virtuoso.pid"), folder $dir)"
}

cmd_load() {
  [ $# -ge 2 ] || die "usage: load DIR TRIG"
  local dir trig nq out
  dir=$(cd "$1" && pwd)
  trig=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
  [ -f "$trig" ] || die "no such file: $trig (run 'exomirkg build' first)"
  running "$dir" || die "no virtuoso running in $dir: run 'scripts/virtuoso.sh start $dir PORT'"
  mkdir -p "$dir/load"
  rm -f "$dir"/load/*
  nq="$dir/load/exomirkg.nq"
  graphs=$("${PYTHON:-python3}" - "$trig" "$nq" <<'PY'
import sys

import pyoxigraph

# TriG -> N-Quads: Virtuoso's loader takes each quad's graph from its 4th term.
store = pyoxigraph.Store()
store.bulk_load(path=sys.argv[1], format=pyoxigraph.RdfFormat.TRIG)
store.dump(output=sys.argv[2], format=pyoxigraph.RdfFormat.N_QUADS)
for graph in store.named_graphs():
    print(graph.value)
PY
) || die "cannot convert $trig to N-Quads (PYTHON=${PYTHON:-python3} needs pyoxigraph)"
  # Replace, not add: clear the graphs this file holds (without logging), then bulk-load.
  local clear="" graph
  while read -r graph; do
    [ -n "$graph" ] && clear+="SPARQL CLEAR GRAPH <$graph>; "
  done <<<"$graphs"
  out=$(isql "$dir" "
    log_enable(3, 1);
    $clear
    DELETE FROM DB.DBA.load_list;
    ld_dir('$dir/load', '*.nq', 'urn:exomirkg:unnamed');
    rdf_loader_run();
    checkpoint;
    SELECT ll_file, ll_error FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;") \
    || die "isql failed (exit $?) while loading: $out"
  if grep -qiE 'error|\*\*\*' <<<"$out"; then
    die "load failed: $out"
  fi
  echo "loaded $trig into virtuoso ($dir)"
}

cmd_stop() {
  [ $# -ge 1 ] || die "usage: stop DIR"
  local dir pid
  dir=$(cd "$1" 2>/dev/null && pwd) || { echo "nothing to stop: no folder $1"; return; }
  if ! running "$dir"; then
    rm -f "$dir/virtuoso.pid"
    echo "nothing to stop in $dir"
    return
  fi
  pid=$(cat "$dir/virtuoso.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
  fi
  rm -f "$dir/virtuoso.pid"
  echo "stopped virtuoso (pid $pid)"
}

cmd_status() {
  [ $# -ge 1 ] || die "usage: status DIR"
  running "$(cd "$1" && pwd)"
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  load) shift; cmd_load "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
