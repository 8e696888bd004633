#!/usr/bin/env node
// Entry point for the `memmap-harness` command: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
