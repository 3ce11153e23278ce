#!/usr/bin/env node
// The `hive` command. TypeScript sources run through tsx's loader: no build step to forget.
// Run through a symlink (`npm link`) from any directory, it resolves from its real path, and reads
// this package's tsconfig, not the one of the repository it is run in.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/cli/main.ts');
