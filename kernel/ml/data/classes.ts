import { CONTACT_CHANNELS, type ContactChannel } from '../../protocol';

/** One affordance class of CAL. */
export interface CalClass {
  /** Index in the paper's order (0..22). */
  index: number;
  /** Name as the paper writes it, e.g. "Push and pull". */
  name: string;
  /** Folder name in the layout: spaces replaced by underscores, e.g. "Push_and_pull". */
  folder: string;
  /** True for the six affordances the Unseen test split covers. */
  unseen: boolean;
  /** Interactive / non-interactive image counts of the real CAL (paper figure). */
  calCounts: { interactive: number; nonInteractive: number };
  /** Body parts (contact channels) that touch objects of this class, per the paper's figure; always includes Outside. */
  parts: readonly ContactChannel[];
}

const COUNTS: [string, number, number][] = [
  ['Type on', 90, 119], ['Brush with', 102, 48], ['Kick', 190, 128], ['Jump', 223, 71], ['Swing', 294, 229],
  ['Cut', 136, 183], ['Ride', 126, 139], ['Boxing', 61, 61], ['Hit', 206, 109], ['Sit on', 142, 217],
  ['Roll dough', 34, 81], ['Blowing', 112, 80], ['Push and pull', 119, 100], ['Throw', 177, 132],
  ['Drink with', 97, 181], ['Lie on', 89, 164], ['Mix', 45, 58], ['Stick', 91, 127], ['Write', 105, 68],
  ['Lift', 50, 49], ['Pour', 130, 181], ['Crutches', 39, 36], ['Shelter', 36, 10],
];

const UNSEEN = new Set(['Brush with', 'Stick', 'Lie on', 'Lift', 'Drink with', 'Cut']);
const FEET = new Set(['Jump', 'Kick', 'Lie on', 'Ride', 'Throw']);
const MOUTH = new Set(['Blowing', 'Brush with', 'Drink with', 'Lift', 'Pour', 'Stick']);
const HIPS = new Set(['Lie on', 'Ride', 'Sit on']);
const BACK = new Set(['Lie on', 'Sit on', 'Write']);
const NO_HANDS = new Set(['Lie on', 'Sit on']);

/**
 * The 23 CAL affordance classes in the paper's order, with folder names and the class x body-part table
 * (docs/paper.md section 2: Outside for all; Hands for all but Lie on and Sit on; Feet, Mouth, Hips, Back as listed).
 */
export const CAL_CLASSES: readonly CalClass[] = COUNTS.map(([name, i, n], index) => ({
  index,
  name,
  folder: name.replace(/ /g, '_'),
  unseen: UNSEEN.has(name),
  calCounts: { interactive: i, nonInteractive: n },
  parts: CONTACT_CHANNELS.filter((c) =>
    c === 'Outside' ? true : c === 'Hands' ? !NO_HANDS.has(name) : c === 'Feet' ? FEET.has(name) : c === 'Mouth' ? MOUTH.has(name) : c === 'Hips' ? HIPS.has(name) : BACK.has(name),
  ),
}));

/** Class names in the paper's order. */
export const CAL_CLASS_NAMES: readonly string[] = CAL_CLASSES.map((c) => c.name);

/** The six Unseen test affordances, in the paper's class order. */
export const UNSEEN_CLASS_NAMES: readonly string[] = CAL_CLASSES.filter((c) => c.unseen).map((c) => c.name);

/**
 * Class x body-part contact table: `CLASS_PART_TABLE[classIndex][channelIndex]` is 1 when that body part touches
 * objects of that class (channels in CONTACT_CHANNELS order), else 0.
 */
export const CLASS_PART_TABLE: readonly (readonly number[])[] = CAL_CLASSES.map((c) => CONTACT_CHANNELS.map((ch) => (c.parts.includes(ch) ? 1 : 0)));

/**
 * Looks a class up by its name ("Push and pull") or folder name ("Push_and_pull").
 * @throws with the list of known folders when there is no such class
 */
export function calClass(nameOrFolder: string): CalClass {
  const c = CAL_CLASSES.find((x) => x.name === nameOrFolder || x.folder === nameOrFolder);
  if (!c) throw new Error(`unknown affordance class "${nameOrFolder}", expected one of ${CAL_CLASSES.map((x) => x.folder).join(', ')}`);
  return c;
}
