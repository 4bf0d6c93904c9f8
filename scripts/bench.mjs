// Runs every bench/*.bench.ts in turn; each writes its figures into bench/results.json (see bench/record.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';

const only = process.argv.slice(2);
const files = readdirSync('bench').filter((f) => f.endsWith('.bench.ts')).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
let failed = 0;
for (const f of files) {
  console.log(`\n== bench/${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.error(`bench/${f} failed with ${r.status}`); }
}
if (existsSync('bench/results.json')) {
  console.log('\n== bench/results.json');
  console.log(readFileSync('bench/results.json', 'utf8'));
}
process.exit(failed ? 1 : 0);
