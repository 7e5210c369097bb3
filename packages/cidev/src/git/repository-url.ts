/** Whether a `--repo` value is a URL (`https://…`, `git://…`, `ssh://…`, `git@host:path`) rather than a path. */
export function isRepositoryUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[^/@:\s]+@[^/:\s]+:/.test(value);
}
