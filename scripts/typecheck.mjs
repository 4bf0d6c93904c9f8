// Type-checks every folder against its own runtime and its declared dependencies, with TypeScript's build
// mode over the root tsconfig.json: each folder is a project (kernel cannot see `vscode` or the DOM, the
// renderer cannot see Node or `vscode`, host/ and cli/ no `vscode`), and a folder can import another only
// when its tsconfig references it (kernel -> common; host -> kernel; extension, cli -> host, kernel; renderer
// -> common; test, bench -> what they test). Declarations go to out/tsc/ (nothing else is emitted).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const projects = JSON.parse(readFileSync('tsconfig.json', 'utf8')).references.map((r) => r.path.replace(/^\.\//, ''));
const r = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.json', '--pretty'], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('typecheck failed (tsc -b tsconfig.json)');
  process.exit(1);
}
console.log(`typecheck ok: ${projects.join(', ')}`);
