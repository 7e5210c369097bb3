// Public API of @solstice/github-test-server.
export {};
