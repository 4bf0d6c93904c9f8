// Type-checks each folder against its own runtime: the kernel cannot see `vscode` or the DOM, the
// renderer cannot see Node or `vscode`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const projects = ['common', 'kernel', 'host', 'extension', 'cli', 'renderer', 'test', 'bench'].filter((p) => existsSync(`${p}/tsconfig.json`));
let failed = false;
for (const p of projects) {
  const r = spawnSync(process.execPath, [tsc, '-p', `${p}/tsconfig.json`, '--pretty'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`typecheck failed in ${p}/`);
    failed = true;
  }
}
if (failed) process.exit(1);
console.log(`typecheck ok: ${projects.join(', ')}`);
