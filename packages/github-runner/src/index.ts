// Public API of @solstice/github-runner.
export {};
