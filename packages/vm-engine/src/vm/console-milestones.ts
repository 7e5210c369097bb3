// The lines of a guest's serial console that mark how far its boot got, for the boot span's events
// (docs/telemetry.md). Our test guests say each stage as `solstice-guest: <stage> [<uptime>s]`;
// cloud-init and the kernel have lines of their own. Everything else on the console is noise here.

/** Longest milestone text kept (a console line can be anything). */
const MAX_MILESTONE_LENGTH = 120;

const MILESTONES: readonly RegExp[] = [
  /^solstice-guest: (.+?)(?: \[[\d.]+s\])?$/,
  /^(Cloud-init v\. \S+ (?:running '[^']+'|finished)).*$/,
  /^(?:\[\s*[\d.]+\] )?(Linux version \S+)/,
  /^(?:\[\s*[\d.]+\] )?(Run \/\S*init) as init process/,
];

/**
 * The milestone a console line marks, or undefined for any other line.
 *
 * @example
 *   consoleMilestone("solstice-guest: network up: eth0 10.0.2.15/24 (dhcp) [1.92s]") // "network up: eth0 10.0.2.15/24 (dhcp)"
 *   consoleMilestone("random kernel chatter") // undefined
 */
export function consoleMilestone(line: string): string | undefined {
  const text = line.trim();
  for (const pattern of MILESTONES) {
    const match = pattern.exec(text);
    if (match?.[1] !== undefined) return match[1].slice(0, MAX_MILESTONE_LENGTH);
  }
  return undefined;
}
