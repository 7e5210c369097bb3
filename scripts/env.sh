# Source this file to put the project's Node and pnpm on PATH:  . scripts/env.sh
_solstice_here="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
. "$_solstice_here/lib.sh"
use_toolchain
unset _solstice_here
