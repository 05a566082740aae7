#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so the CLI and the tests share one build-free source tree.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
