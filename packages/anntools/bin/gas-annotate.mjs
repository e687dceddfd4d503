#!/usr/bin/env node
// The CLI is TypeScript run through tsx, like every service; this shim makes `pnpm exec gas-annotate` work.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
