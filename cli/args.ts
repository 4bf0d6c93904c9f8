/**
 * Command-line parsing for `affordance-lab`. Strict: an unknown flag, a missing value or a value of the
 * wrong kind is a {@link UsageError} (exit code 2) that names it. Options are read with Node's
 * `util.parseArgs`; the values are checked here.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import type { BackendChoice } from '../kernel/protocol';
import { parseBackend, SettingsError } from '../host/settings';
import { UsageError } from './ipynb';

export interface RunCommand {
  command: 'run';
  notebook: string;
  /** Output file; `-` writes to stdout; undefined means `<name>.executed.ipynb` beside the input. */
  out?: string;
  allowErrors: boolean;
  /** Per-cell limit in seconds. */
  timeoutSec?: number;
  backend?: BackendChoice;
}

export interface SyncalCommand {
  command: 'syncal';
  dir: string;
  seed?: number;
  perClass?: number;
  size?: number;
}

export type Command = RunCommand | SyncalCommand | { command: 'help' } | { command: 'version' };

export const USAGE = `Usage:
  affordance-lab run <notebook.ipynb> [--out <file.ipynb>] [--allow-errors] [--timeout <s>] [--backend <name>]
      Runs every TypeScript/JavaScript code cell in order in one kernel and writes the notebook with its
      outputs (default: <name>.executed.ipynb beside the input; --out - writes to stdout; the input is
      only overwritten when --out names it). Stops at the first failing cell unless --allow-errors.
      --timeout interrupts a cell that runs longer than <s> seconds and fails it.
      --backend auto|tensorflow|webgpu|wasm|cpu (default: AFFORDANCE_LAB_BACKEND, else auto).
  affordance-lab syncal <dir> [--seed <n>] [--per-class <n>] [--size <px>]
      Generates the SynCAL synthetic dataset in the CAL layout under <dir>.
  affordance-lab --help | --version

Exit codes: 0 success, 1 a cell failed or the kernel died, 2 bad input or usage.`;

type Spec = Record<string, 'flag' | 'string' | 'number'>;

/** Node's `util.parseArgs` over the spec, with its errors turned into one-line usage errors. */
function parseFlags(args: string[], spec: Spec, command: string): { positionals: string[]; values: Record<string, string | number | boolean> } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [flag, kind] of Object.entries(spec)) {
    if (flag.startsWith('--')) options[flag.slice(2)] = { type: kind === 'flag' ? 'boolean' : 'string' };
  }
  for (const [flag, kind] of Object.entries(spec)) {
    // `-o` is the short form of the long option with the same kind (`--out`).
    if (!flag.startsWith('--') && flag.length === 2) {
      const long = Object.keys(options).find((k) => k.startsWith(flag[1]) && options[k].type === (kind === 'flag' ? 'boolean' : 'string'));
      if (long) options[long].short = flag[1];
    }
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args, options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (e) {
    const err = e as Error & { code?: string };
    const name = /Option '(-{1,2}[\w-]+)/.exec(err.message)?.[1] ?? /'(-{1,2}[\w-]+)'/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${name} for "${command}" (see affordance-lab --help)`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/does not take an argument/.test(err.message)) throw new UsageError(`option ${name} takes no value`);
      throw new UsageError(`option ${name} needs a value`);
    }
    throw new UsageError(`${command}: ${err.message.split('\n')[0]}`);
  }
  const values: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(parsed.values)) {
    if (value === undefined) continue;
    const flag = `--${key}`;
    if (spec[flag] === 'number') {
      const raw = String(value);
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`option ${flag} is "${raw}"; expected a positive number`);
      values[flag] = n;
    } else values[flag] = value;
  }
  return { positionals: parsed.positionals, values };
}

function integer(v: string | number | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new UsageError(`option ${name} is "${String(v)}"; expected a positive integer`);
  return v;
}

/**
 * Parses `process.argv.slice(2)`.
 * @throws UsageError for anything that is not a valid command line
 */
export function parseArgs(argv: string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command; expected "run" or "syncal" (see affordance-lab --help)');
  if (command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (command === '--version' || command === '-v') return { command: 'version' };
  if (command === 'run') {
    const { positionals, values } = parseFlags(rest, { '--out': 'string', '--allow-errors': 'flag', '--timeout': 'number', '--backend': 'string', '-o': 'string' }, 'run');
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'run: missing <notebook.ipynb>' : `run: expected one notebook, got ${positionals.length}: ${positionals.join(' ')}`);
    let backend: BackendChoice | undefined;
    if (values['--backend'] !== undefined) {
      try {
        backend = parseBackend(String(values['--backend']), '--backend');
      } catch (e) {
        throw new UsageError((e as SettingsError).message);
      }
    }
    const out = values['--out'];
    return {
      command: 'run',
      notebook: positionals[0],
      out: out === undefined ? undefined : String(out),
      allowErrors: values['--allow-errors'] === true,
      timeoutSec: values['--timeout'] as number | undefined,
      backend,
    };
  }
  if (command === 'syncal') {
    const { positionals, values } = parseFlags(rest, { '--seed': 'string', '--per-class': 'number', '--size': 'number' }, 'syncal');
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'syncal: missing <dir>' : `syncal: expected one folder, got ${positionals.length}`);
    let seed: number | undefined;
    if (values['--seed'] !== undefined) {
      seed = Number(values['--seed']);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`option --seed is "${String(values['--seed'])}"; expected a non-negative integer`);
    }
    return { command: 'syncal', dir: positionals[0], seed, perClass: integer(values['--per-class'], '--per-class'), size: integer(values['--size'], '--size') };
  }
  throw new UsageError(`unknown command "${command}"; expected "run" or "syncal" (see affordance-lab --help)`);
}
