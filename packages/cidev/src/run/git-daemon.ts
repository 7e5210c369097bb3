// `git daemon` serving the repository to the guest: shared with ciadm (`trigger --repo <dir>`).
export { GitDaemon, GUEST_HOST_ADDRESS } from "@solstice/cli-kit";
