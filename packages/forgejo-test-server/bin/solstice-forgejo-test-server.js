#!/usr/bin/env node
// The installed command: runs the built server (pnpm build). From source, in development:
//   node --conditions=@solstice/source packages/forgejo-test-server/src/main.ts
import "../dist/main.js";
