// `@solstice/vm-engine/local`: the `local` backend, for unit tests of the job flow only. Its
// "guest" is a directory on the host and its commands run on the host, unisolated. It is an entry
// of its own, not exported from `@solstice/vm-engine`, and no configuration names it: a service
// gets it only by importing this entry in code, which only tests do.
export { LocalGuestShell } from "./local-guest-shell.ts";
export { LocalHypervisor, type LocalHypervisorOptions } from "./local-hypervisor.ts";
