#!/usr/bin/env bash
# Smoke-run the built container image (scripts/image-build.sh) with podman, no Docker engine:
#   1. the service user (non-root, in the kvm group), QEMU and qemu-img inside, tini as PID 1;
#   2. each service's --help through the entrypoints compose.yml uses;
#   3. `solstice-orchestrator migrate` against the test Postgres;
#   4. the orchestrator running in the container (TCG, or KVM with /dev/kvm), healthy by compose's
#      health check, running one job on the fast test guest from a git daemon on this host;
#   5. SIGTERM (`podman stop`) while that job runs: the job still succeeds (drained), exit code 0.
# Usage: scripts/image-smoke.sh [--image NAME] [--no-job]
# Needs root, podman + runc, RabbitMQ and Postgres on loopback (scripts/services.sh), the fast guest
# (scripts/build-test-guests.sh fast) and the workspace (pnpm install: ciadm triggers the job).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"

image="solstice-ci/orchestrator:latest"
job=1
while [ $# -gt 0 ]; do
  case "$1" in
    --image) [ $# -ge 2 ] || die "--image needs a name"; image="$2"; shift ;;
    --no-job) job="" ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done

as_root true
apt_install podman runc
use_toolchain
as_root podman image exists "$image" || die "no image $image: build it with scripts/image-build.sh"
# runc and explicit limits: crun, and podman's defaults, fail on hosts with strict rlimits or
# hybrid cgroups (docs/troubleshooting.md, "Containers on this kind of machine").
podman_() {
  as_root podman --runtime runc "$@"
}
run_() {
  podman_ run --rm --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 "$@"
}
fail() { die "image smoke: $*"; }
ok() { log "ok: $*"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/solstice-smoke.XXXXXX")"
ctr="solstice-smoke-$$"
daemon_pid=""
# Clean-up of what may already be gone (the container stopped, the daemon exited): errors ignored.
cleanup() {
  podman_ rm -f -t 0 "$ctr" >/dev/null 2>&1 || true
  [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start=$(date +%s)

# 1. The runtime: user, groups, tools. (Output is read whole: `grep -q` on a pipe would close it
# early and podman report the broken pipe.)
expect_out() { # <what> <pattern> <command...>
  local what="$1" pattern="$2" out; shift 2
  out="$("$@" 2>&1)" || { printf '%s\n' "$out" >&2; fail "$what"; }
  grep -q -- "$pattern" <<<"$out" || { printf '%s\n' "$out" >&2; fail "$what: no '$pattern' in its output"; }
}
expect_out "id" 'uid=10001(solstice).*kvm' run_ --entrypoint id "$image"
ok "runs as the non-root user solstice, in the kvm group"
expect_out "qemu-system-x86_64" "QEMU emulator" run_ --entrypoint qemu-system-x86_64 "$image" --version
expect_out "qemu-img" "qemu-img version" run_ --entrypoint qemu-img "$image" --version
expect_out "git" "git version" run_ --entrypoint git "$image" --version
expect_out "ssh-keygen" "" run_ --entrypoint ssh-keygen "$image" -t ed25519 -N '' -q -f /tmp/k
entrypoint="$(as_root podman image inspect --format '{{json .Config.Entrypoint}}' "$image")"
case "$entrypoint" in
  '["/usr/bin/tini","--",'*) ok "entrypoint $entrypoint" ;;
  *) fail "the entrypoint should start with tini, got $entrypoint" ;;
esac

# 2. Every service's --help, through compose.yml's entrypoints.
expect_out "solstice-orchestrator --help" "solstice-orchestrator" run_ "$image" --help
for svc in forgejo-runner github-runner; do
  ep="[\"/usr/bin/tini\",\"--\",\"node\",\"--max-semi-space-size=8\",\"/opt/solstice-$svc/dist/main.js\"]"
  expect_out "solstice-$svc --help" "solstice-$svc" run_ --entrypoint "$ep" "$image" --help
  expect_out "solstice-$svc daemon --help" "--capacity" run_ --entrypoint "$ep" "$image" daemon --help
done
ok "--help of the orchestrator, forgejo-runner and github-runner"

# 3. migrate against the test Postgres (host network: the services listen on loopback).
eval "$(bash "$here/services.sh" env)"
: "${DATABASE_URL:?}" "${AMQP_URL:?}"
# As compose.yml runs it: the image's HTTP_ADDR is 0.0.0.0, which `migrate` (no API) does not mind.
run_ --network host -e DATABASE_URL="$DATABASE_URL" "$image" migrate >"$work/migrate.log" 2>&1 \
  || { cat "$work/migrate.log" >&2; fail "migrate"; }
ok "migrate against the test Postgres ($(tr '\n' ' ' <"$work/migrate.log" | cut -c1-120))"

if [ -z "$job" ]; then
  log "image smoke passed in $(( $(date +%s) - start )) s (no job: --no-job)"
  exit 0
fi

# 4. The orchestrator in the container, one job on the fast guest.
guests="${SOLSTICE_GUESTS_DIR:-$SOLSTICE_CACHE/guests}"
[ -r "$guests/fast/disk.qcow2" ] || fail "no fast guest in $guests (scripts/build-test-guests.sh fast)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port="$(free_port)"
git_port="$(free_port)"
# Names of this run only, so no other orchestrator on the shared broker takes the job.
prefix="smoke-$$-$(date +%s)"
mq_env=(
  AMQP_URL="$AMQP_URL"
  AMQP_EXCHANGE="$prefix.jobs" AMQP_QUEUE="$prefix.jobs.v1" AMQP_ROUTING_KEY=jobrequest.v1
  AMQP_DLX="$prefix.dlx" AMQP_DLQ="$prefix.jobs.v1.dlq"
  AMQP_EVENTS_EXCHANGE="$prefix.events" AMQP_EVENTS_UNROUTED="$prefix.events.unrouted"
  AMQP_CANCEL_EXCHANGE="$prefix.cancel"
)
mkdir -p "$work/state" "$work/git/smoke"
as_root chown 10001 "$work/state"
env_args=()
for kv in "${mq_env[@]}"; do env_args+=(-e "$kv"); done
kvm_args=()
[ -c /dev/kvm ] && kvm_args=(--device /dev/kvm)
# A token as compose.yml requires one (the VMs reach the container's loopback).
api_token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
# The image map of the test guests, its paths pointed at the guests mounted read-only.
podman_ run -d --name "$ctr" --network host \
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 "${kvm_args[@]}" \
  -v "$guests:/guests:ro" -v "$root/examples/test-guests.image-map.yaml:/etc/solstice/images.yaml:ro" \
  -v "$work/state:/var/lib/solstice-ci" \
  -e SOLSTICE_GUESTS_DIR=/guests -e HOST_ID="$prefix" -e MAX_CONCURRENCY=1 \
  -e CAPACITY_MAP=solstice-fast-guest=1 -e DATABASE_URL="$DATABASE_URL" -e RUN_MIGRATIONS=true \
  -e HTTP_ADDR="127.0.0.1:$http_port" -e HTTP_TOKEN="$api_token" -e DRAIN_TIMEOUT_SECS=120 \
  "${env_args[@]}" "$image" run >/dev/null
# compose.yml's health check (with the token from the container's environment), on this run's port.
health="fetch('http://127.0.0.1:$http_port/readyz',{headers:{authorization:'Bearer '+process.env.HTTP_TOKEN}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
for _ in $(seq 1 60); do
  podman_ exec "$ctr" node -e "$health" && break
  [ "$(podman_ inspect -f '{{.State.Running}}' "$ctr")" = true ] || { podman_ logs "$ctr" >&2; fail "the orchestrator exited"; }
  sleep 1
done
podman_ exec "$ctr" node -e "$health" || { podman_ logs "$ctr" >&2; fail "not ready after 60 s"; }
ok "orchestrator ready in the container (health check: GET /readyz)"

marker="solstice-image-smoke-$prefix"
(
  cd "$work/git/smoke"
  git init -q -b main . && echo "$marker" >smoke.txt && git add smoke.txt
  git -c user.name=smoke -c user.email=smoke@localhost commit -q -m smoke
)
sha="$(git -C "$work/git/smoke" rev-parse HEAD)"
git daemon --export-all --reuseaddr --base-path="$work/git" --listen=127.0.0.1 --port="$git_port" "$work/git" &
daemon_pid=$!
# The job: the VM clones the repository, prints the marker, then runs long enough to be stopped.
(
  cd "$root"
  env "${mq_env[@]}" ORCH_URL="http://127.0.0.1:$http_port" ORCH_TOKEN="$api_token" timeout 600 \
    pnpm --silent ciadm trigger --repo "git://10.0.2.2:$git_port/smoke" --sha "$sha" \
    --runs-on solstice-fast-guest --step 'cat smoke.txt' --step 'sleep 15; echo slept' --wait
) >"$work/job.out" 2>"$work/job.err" &
job_pid=$!
for _ in $(seq 1 300); do
  grep -q "$marker" "$work/job.err" && break
  kill -0 "$job_pid" 2>/dev/null || break
  sleep 1
done
grep -q "$marker" "$work/job.err" || { cat "$work/job.err" >&2; podman_ logs "$ctr" >&2; fail "the job never printed its marker"; }
ok "the job runs in a VM started from the container (the guest cloned the repository)"

# 5. SIGTERM while the job runs: tini passes it on, the service drains, the job still succeeds.
stopped_at="$(date +%s)"
podman_ stop -t 150 "$ctr" >/dev/null
code="$(podman_ inspect -f '{{.State.ExitCode}}' "$ctr")"
# ciadm follows the log through the HTTP API, which closes once the drain is done: the job's end
# is read from the database, where the orchestrator recorded it before closing.
wait "$job_pid" || log "ciadm ended with $? (the API closed after the drain)"
request_id="$(head -1 "$work/job.out")"
# The last step's output as the orchestrator stored it (ciadm may have missed the last lines).
slept="$(psql "$DATABASE_URL" -Atc "select count(*) from job_logs where request_id = '$request_id' and text = 'slept'")"
[ "$slept" = 1 ] || { cat "$work/job.err" >&2; fail "the job's last step did not run to its end"; }
# Finished after the stop signal was sent: the drain waited for it (it was not already done).
outcome="$(psql "$DATABASE_URL" -Atc "select state || ' ' || conclusion || ' ' || (extract(epoch from finished_at) > $stopped_at) from jobs where request_id = '$request_id'")"
[ "$outcome" = "finished success true" ] || { podman_ logs "$ctr" >&2; fail "job $request_id: '$outcome', expected 'finished success true' (finished after SIGTERM)"; }
podman_ logs "$ctr" 2>&1 | grep '"msg":"shut down"' | grep -q '"drained":true' \
  || { podman_ logs "$ctr" >&2; fail "the orchestrator did not report a drained shutdown"; }
[ "$code" = 0 ] || fail "the orchestrator exited with $code after SIGTERM"
ok "SIGTERM drained: the running job $request_id finished (success), exit code 0"
# The run's queues go with it (the exchanges are cheap and idle); one already gone is fine.
for q in "$prefix.jobs.v1" "$prefix.jobs.v1.dlq" "$prefix.events.unrouted"; do as_root rabbitmqctl -q delete_queue "$q" >/dev/null 2>&1 || true; done
log "image smoke passed in $(( $(date +%s) - start )) s"
