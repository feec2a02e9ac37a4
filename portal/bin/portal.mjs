#!/usr/bin/env node
// The `portal` CLI. TypeScript runs through tsx's loader, so there is no build step for the CLI or server.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
