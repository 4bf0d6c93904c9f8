import { MIME_BUNDLE, type Displayable } from '../../display';
import type { MimeBundle, MimePayloads } from '../../protocol';

/**
 * A rich output built by the viz builders: one custom MIME payload plus its fallbacks (image/png or
 * text/markdown), so that a notebook saved and opened without the extension still shows something.
 * Pass it to `display()`, or return it as a cell's last value.
 */
export class VizOutput<M extends keyof MimePayloads> implements Displayable {
  constructor(
    /** The custom MIME type of {@link payload}. */
    readonly mime: M,
    /** The JSON payload the renderer draws. */
    readonly payload: MimePayloads[M],
    /** Fallbacks by MIME type: base64 for image/png, text for text/markdown and text/plain. */
    readonly fallback: Record<string, string>,
  ) {}

  [MIME_BUNDLE](): MimeBundle {
    return { [this.mime]: this.payload, ...this.fallback };
  }

  /** The PNG fallback's bytes, if this output has one. */
  get png(): Buffer | undefined {
    const b = this.fallback['image/png'];
    return b === undefined ? undefined : Buffer.from(b, 'base64');
  }
}
