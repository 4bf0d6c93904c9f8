/**
 * `affordance-lab`: the library that notebook cells import. Each part lives in its own folder.
 */
export * from './data/index';
export * from './model/index';
export * from './metrics/index';
export * from './train/index';
export { display, MIME_BUNDLE } from '../display';
export type { Displayable, DisplayHandle } from '../display';
export * from '../runtime/index';
