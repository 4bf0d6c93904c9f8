// Entry point for `node --test test/e2e/`: Node 20's runner only picks up .js/.mjs/.cjs files when given a
// folder, so this file loads the TypeScript suites (through the tsx loader that the npm script imports).
import './notebooks.e2e.ts';
import './kernel.e2e.ts';
