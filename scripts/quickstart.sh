#!/usr/bin/env bash
# The README's quick start: install everything this machine needs (Node 24 + pnpm from the npm
# registry; RabbitMQ, PostgreSQL, QEMU from Debian; the fast test guest built from Debian packages),
# then run a real job in a real VM: `cidev run examples/hello`, in the orchestrator's embedded
# single-node mode (in-process queue, PGlite), streaming the job's log here.
# Usage: scripts/quickstart.sh [extra cidev run flags, e.g. --keep-on-failure]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"

bash "$here/setup.sh"
use_toolchain
cd "$root"
log "== running examples/hello in a VM (cidev run)"
exec node --conditions=@solstice/source packages/cidev/src/main.ts run examples/hello "$@"
