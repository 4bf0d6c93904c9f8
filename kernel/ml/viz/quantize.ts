import { CONTACT_CHANNELS, type QuantizedMap } from '../../protocol';

/** Anything with a tensor's shape and async data, e.g. a `tf.Tensor2D` (kept structural so viz needs no runtime). */
export interface TensorLike {
  readonly shape: readonly number[];
  data(): Promise<ArrayLike<number>>;
}

/** One 2-D map given to a viz builder: plain values (row-major, width*height) or a 2-D tensor [height, width]. */
export interface MapInput {
  name: string;
  values: ArrayLike<number> | TensorLike;
  width: number;
  height: number;
}

function isTensorLike(v: unknown): v is TensorLike {
  return typeof v === 'object' && v !== null && typeof (v as TensorLike).data === 'function' && Array.isArray((v as TensorLike).shape);
}

/**
 * Reads a map's values as a Float32Array of width*height, checking the size.
 * @throws when the values' length or the tensor's shape does not match width x height
 */
export async function mapValues(map: MapInput): Promise<Float32Array> {
  const { name, width, height } = map;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`map "${name}": width and height must be positive integers, got ${width} x ${height}`);
  }
  let values: ArrayLike<number>;
  if (isTensorLike(map.values)) {
    const shape = map.values.shape;
    const ok = (shape.length === 2 && shape[0] === height && shape[1] === width) || (shape.length === 3 && shape[0] === height && shape[1] === width && shape[2] === 1);
    if (!ok) throw new Error(`map "${name}": expected a tensor of shape [${height}, ${width}], got [${shape.join(', ')}]`);
    values = await map.values.data();
  } else {
    values = map.values;
  }
  if (values.length !== width * height) {
    throw new Error(`map "${name}": expected ${width * height} values (${width} x ${height}), got ${values.length}`);
  }
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/**
 * Quantises a map to 8 bits as {@link QuantizedMap} says: value = min + (byte / 255) * (max - min).
 * Non-finite values count as the minimum. A constant map gets max = min and all bytes 0.
 * @param name - label of the map (usually the contact channel)
 * @param values - row-major width*height values
 */
export function quantizeMap(name: string, values: ArrayLike<number>, width: number, height: number): QuantizedMap {
  if (values.length !== width * height) {
    throw new Error(`quantizeMap "${name}": expected ${width * height} values (${width} x ${height}), got ${values.length}`);
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) {
    min = 0;
    max = 0;
  }
  const bytes = new Uint8Array(values.length);
  const range = max - min;
  if (range > 0) {
    const s = 255 / range;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      bytes[i] = Number.isFinite(v) ? Math.round((v - min) * s) : 0;
    }
  }
  return { name, width, height, encoding: 'u8', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), min, max };
}

/** Inverse of {@link quantizeMap}: the map's values as floats (exact to (max - min) / 510). */
export function dequantizeMap(map: QuantizedMap): Float32Array {
  const bytes = Buffer.from(map.data, 'base64');
  if (bytes.length !== map.width * map.height) {
    throw new Error(`dequantizeMap "${map.name}": expected ${map.width * map.height} bytes, got ${bytes.length}`);
  }
  const out = new Float32Array(bytes.length);
  const s = (map.max - map.min) / 255;
  for (let i = 0; i < bytes.length; i++) out[i] = map.min + bytes[i] * s;
  return out;
}

/**
 * Splits an [height, width, channels] map tensor (or [1, h, w, c]) into one {@link MapInput} per channel, e.g. a
 * prediction or GT of the six contact channels, ready for `heatmapOutput({ maps })`.
 * @param names - channel names; @default CONTACT_CHANNELS order when there are 6 channels, else `c0`, `c1`, ...
 * @throws when the tensor is not 3-D (or 4-D with batch 1) or names has the wrong length
 */
export async function channelMaps(tensor: TensorLike, names?: readonly string[]): Promise<(MapInput & { values: Float32Array })[]> {
  const shape = tensor.shape.length === 4 && tensor.shape[0] === 1 ? tensor.shape.slice(1) : tensor.shape;
  if (shape.length !== 3) throw new Error(`channelMaps: expected a tensor of shape [height, width, channels], got [${tensor.shape.join(', ')}]`);
  const [height, width, channels] = shape;
  const labels = names ?? (channels === CONTACT_CHANNELS.length ? CONTACT_CHANNELS : Array.from({ length: channels }, (_, c) => `c${c}`));
  if (labels.length !== channels) throw new Error(`channelMaps: ${labels.length} names for ${channels} channels`);
  const v = await tensor.data();
  return labels.map((name, c) => {
    const values = new Float32Array(width * height);
    for (let i = 0, o = c; i < values.length; i++, o += channels) values[i] = v[o];
    return { name, values, width, height };
  });
}
