// Public API of @solstice/runner-core.
export {};
