#!/usr/bin/env -S node --max-semi-space-size=8
// The installed command: runs the built service (pnpm build). From source, in development:
//   node --conditions=@solstice/source packages/forgejo-runner/src/main.ts
import "../dist/main.js";
