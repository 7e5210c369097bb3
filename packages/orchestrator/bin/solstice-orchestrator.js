#!/usr/bin/env node
// The installed command: runs the built service (pnpm build). From source, in development:
//   node --conditions=@solstice/source packages/orchestrator/src/main.ts
import "../dist/main.js";
