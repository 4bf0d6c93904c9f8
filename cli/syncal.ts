/**
 * `affordance-lab syncal <dir>`: writes the SynCAL synthetic dataset in the CAL layout.
 */
import { statSync } from 'node:fs';
import { generateSynCAL } from '../kernel/ml/data/syncal/index';
import type { SyncalCommand } from './args';
import { UsageError } from './ipynb';

/** Generator limits on the image width, checked before anything is written. */
const SIZE_RANGE = [96, 1024] as const;

/**
 * Generates the dataset, with progress on `progress`.
 * @returns exit code 0
 * @throws UsageError when `dir` is a file or an option is out of range
 */
export async function runSyncal(cmd: SyncalCommand, progress: (line: string) => void): Promise<number> {
  try {
    if (!statSync(cmd.dir).isDirectory()) throw new UsageError(`${cmd.dir}: exists and is not a folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // A folder that does not exist yet is created by the generator.
  }
  if (cmd.size !== undefined && (cmd.size < SIZE_RANGE[0] || cmd.size > SIZE_RANGE[1])) {
    throw new UsageError(`option --size is ${cmd.size}; expected an integer from ${SIZE_RANGE[0]} to ${SIZE_RANGE[1]}`);
  }
  let last = 0;
  const result = await generateSynCAL(cmd.dir, {
    seed: cmd.seed,
    perClass: cmd.perClass,
    size: cmd.size,
    onProgress: (done, total) => {
      // One line per tenth, not per image.
      const step = Math.floor((done / total) * 10);
      if (step > last || done === total) {
        last = step;
        progress(`syncal: ${done}/${total} images`);
      }
    },
  });
  progress(`syncal: wrote ${result.images} images to ${result.root} in ${result.seconds.toFixed(1)} s`);
  return 0;
}
