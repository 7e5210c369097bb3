#!/usr/bin/env bash
# Install, start, stop and check the services tests and development need, on loopback only:
#   RabbitMQ (amqp://guest:guest@127.0.0.1:5672/%2f) and PostgreSQL (postgres://solstice:solstice@127.0.0.1:5432/solstice).
# Usage: scripts/services.sh install|start|stop|status|env [rabbitmq|postgres|all]
# Idempotent, and fast when everything is already up.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

PG_USER="${SOLSTICE_PG_USER:-solstice}"
PG_PASSWORD="${SOLSTICE_PG_PASSWORD:-solstice}"
PG_DB="${SOLSTICE_PG_DB:-solstice}"
PG_PORT="${SOLSTICE_PG_PORT:-5432}"
AMQP_PORT="${SOLSTICE_AMQP_PORT:-5672}"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port seconds what
  local i=0; while ! port_open "$1"; do i=$((i + 1)); [ "$i" -gt $(($2 * 5)) ] && die "$3 did not open 127.0.0.1:$1 within $2 s"; sleep 0.2; done
}

pg_cluster() { pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1" "$2}'; }

rabbitmq_install() { apt_install rabbitmq-server; }
# Loopback only: neither AMQP, the Erlang distribution port nor epmd is exposed. Returns 0 when it changed a file.
rabbitmq_configure() {
  local changed=1
  if ! grep -qs "^listeners.tcp.default = 127.0.0.1:$AMQP_PORT" /etc/rabbitmq/rabbitmq.conf; then
    as_root sh -c "printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users.guest = true\n' '$AMQP_PORT' > /etc/rabbitmq/rabbitmq.conf"; changed=0
  fi
  if ! grep -qs 'inet_dist_use_interface' /etc/rabbitmq/rabbitmq-env.conf; then
    as_root sh -c "printf 'NODE_IP_ADDRESS=127.0.0.1\nERL_EPMD_ADDRESS=127.0.0.1\nSERVER_ADDITIONAL_ERL_ARGS=\"-kernel inet_dist_use_interface {127,0,0,1}\"\n' >> /etc/rabbitmq/rabbitmq-env.conf"; changed=0
  fi
  return $changed
}
rabbitmq_running() { port_open "$AMQP_PORT"; }
rabbitmq_start() {
  command -v rabbitmq-server >/dev/null 2>&1 || rabbitmq_install
  if rabbitmq_configure && rabbitmq_running; then
    # The package starts the broker on install, before our loopback config existed.
    log "rabbitmq: restarting to apply the loopback configuration"
    rabbitmq_stop
    if pgrep -x epmd >/dev/null; then as_root pkill -x epmd; fi
    local i=0; while rabbitmq_running && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
  fi
  rabbitmq_running && { log "rabbitmq: running on 127.0.0.1:$AMQP_PORT"; return 0; }
  log "rabbitmq: starting"
  as_root service rabbitmq-server start >/dev/null 2>&1 || as_root rabbitmq-server -detached
  wait_port "$AMQP_PORT" 90 rabbitmq
  as_root rabbitmqctl -q await_startup >/dev/null 2>&1 || die "rabbitmq did not finish starting (see /var/log/rabbitmq)"
  log "rabbitmq: running on 127.0.0.1:$AMQP_PORT"
}
rabbitmq_stop() { rabbitmq_running || return 0; as_root service rabbitmq-server stop >/dev/null 2>&1 || as_root rabbitmqctl -q stop; }

postgres_install() {
  apt_install postgresql
}
postgres_running() { port_open "$PG_PORT"; }
postgres_start() {
  command -v pg_lsclusters >/dev/null 2>&1 || postgres_install
  local c; c="$(pg_cluster)"
  [ -n "$c" ] || die "no PostgreSQL cluster found (pg_lsclusters is empty); create one with pg_createcluster"
  if ! postgres_running; then
    log "postgres: starting cluster $c"
    # Loopback only.
    local ver="${c% *}" name="${c#* }"
    as_root sh -c "mkdir -p /etc/postgresql/$ver/$name/conf.d && printf \"listen_addresses = '127.0.0.1'\\nport = $PG_PORT\\n\" > /etc/postgresql/$ver/$name/conf.d/solstice.conf"
    as_root pg_ctlcluster $c start
    wait_port "$PG_PORT" 60 postgres
  fi
  # Role and database for Solstice (idempotent).
  as_root su postgres -c "psql -p $PG_PORT -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$PG_USER'\"" | grep -q 1 ||
    as_root su postgres -c "psql -p $PG_PORT -qc \"CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASSWORD'\""
  as_root su postgres -c "psql -p $PG_PORT -qtAc \"SELECT 1 FROM pg_database WHERE datname='$PG_DB'\"" | grep -q 1 ||
    as_root su postgres -c "createdb -p $PG_PORT -O $PG_USER $PG_DB"
  log "postgres: running on 127.0.0.1:$PG_PORT (database $PG_DB)"
}
postgres_stop() { local c; c="$(pg_cluster)"; [ -n "$c" ] && postgres_running && as_root pg_ctlcluster $c stop; return 0; }

status() {
  local rc=0
  if rabbitmq_running; then echo "rabbitmq: up (127.0.0.1:$AMQP_PORT)"; else echo "rabbitmq: down"; rc=1; fi
  if postgres_running; then echo "postgres: up (127.0.0.1:$PG_PORT)"; else echo "postgres: down"; rc=1; fi
  return $rc
}

print_env() {
  echo "export AMQP_URL='amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f'"
  echo "export DATABASE_URL='postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB'"
}

cmd="${1:-status}"; what="${2:-all}"
case "$what" in rabbitmq|postgres|all) ;; *) die "unknown service '$what' (rabbitmq, postgres or all)";; esac
run() { # action
  case "$what" in
    rabbitmq) "rabbitmq_$1" ;;
    postgres) "postgres_$1" ;;
    all) "rabbitmq_$1"; "postgres_$1" ;;
  esac
}
case "$cmd" in
  install) run install ;;
  start) run start ;;
  stop) run stop ;;
  restart) run stop; run start ;;
  status) status ;;
  env) print_env ;;
  -h|--help|help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (install, start, stop, restart, status, env)" ;;
esac
