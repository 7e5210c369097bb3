#!/usr/bin/env node
// The installed command: runs the built CLI (pnpm build). From source, in development:
//   pnpm cidev <command>   (node --conditions=@solstice/source packages/cidev/src/main.ts)
import "../dist/main.js";
