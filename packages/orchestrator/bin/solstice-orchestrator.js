#!/usr/bin/env -S node --max-semi-space-size=8
// The installed command: runs the built service (pnpm build). From source, in development:
//   node --conditions=@solstice/source packages/orchestrator/src/main.ts
// --max-semi-space-size=8 caps V8's young generation at 16 MB (Node 24 grows it to 64 MB): the
// service allocates little per job, and it keeps the resident size well under 200 MB.
import "../dist/main.js";
