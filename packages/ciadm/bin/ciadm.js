#!/usr/bin/env node
// The installed command: runs the built CLI (pnpm build). From source, in development:
//   pnpm ciadm <command>   (node --conditions=@solstice/source packages/ciadm/src/main.ts)
import "../dist/main.js";
