#!/usr/bin/env node
// The installed command: runs the built package (pnpm build). From source, in development:
//   node --conditions=@solstice/source packages/github-runner/src/main.ts
import "../dist/main.js";
