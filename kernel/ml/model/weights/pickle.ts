/**
 * A pickle reader that understands only what PyTorch state dicts are made of, and never executes anything.
 *
 * Python's pickle is a small stack machine whose GLOBAL and REDUCE opcodes import and call any function a
 * file names (`os.system` included). This reader interprets the opcodes of protocols 2 to 5 that carry
 * data (ints, floats, strings, bytes, tuples, lists, dicts, memo, marks, persistent ids) and resolves
 * GLOBAL only against a fixed table given by the caller (the tensor-rebuild functions, the storage types,
 * `collections.OrderedDict`). Any other global is refused with an error that names it and the file,
 * before anything after it is read. Nothing in the file is ever turned into code.
 */

/** A global of the allowed table: a constant (e.g. a storage type) or a function REDUCE may call. */
export interface AllowedGlobal {
  /** The value GLOBAL pushes when it is not callable (storage types). */
  value?: unknown;
  /** What REDUCE(global, args) returns. */
  call?: (args: unknown[]) => unknown;
}

export type GlobalTable = ReadonlyMap<string, AllowedGlobal>;

/** A dict built by the pickle (keys are strings or numbers in state dicts). */
export class PickleDict extends Map<unknown, unknown> {}

class Global {
  constructor(
    readonly qualname: string,
    readonly def: AllowedGlobal,
  ) {}
}

const MARK = Symbol('mark');

export interface UnpickleOptions {
  /** File name for errors. */
  file: string;
  globals: GlobalTable;
  /** Resolves a persistent id (BINPERSID); without it a persistent id is an error. */
  persistentLoad?: (pid: unknown) => unknown;
}

/**
 * Reads one pickle from `bytes` starting at `start`.
 * @returns the value and the offset just past its STOP opcode
 */
export function unpickle(bytes: Uint8Array, start: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const file = opts.file;
  let p = start;
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg} (pickle byte ${p})`);
  };
  const need = (n: number): void => {
    if (p + n > bytes.length) fail('the pickle ends early; the file may be truncated');
  };
  const u8 = (): number => {
    need(1);
    return bytes[p++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(p, true);
    p += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(p, true);
    p += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large');
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const b = bytes.subarray(p, p + n);
    p += n;
    return b;
  };
  const text = (n: number): string => Buffer.from(take(n)).toString('utf8');
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail('unterminated GLOBAL name');
    const s = Buffer.from(bytes.subarray(p, end)).toString('latin1');
    p = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    const v = stack.pop();
    if (v === MARK) fail('unexpected mark');
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail('no mark on the stack');
    const items = stack.splice(at);
    items.shift();
    return items;
  };
  const resolve = (module: string, name: string): Global => {
    const q = `${module}.${name}`;
    const def = opts.globals.get(q);
    if (!def) fail(`refuses to load: the pickle names the global "${q}", which a state dict does not use (only tensors, storages and OrderedDict are read; nothing in the file is executed)`);
    return new Global(q, def!);
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) fail('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const at = p;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: p };
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo entry ${k} is missing`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(Buffer.from(take(u32())).toString('latin1'));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(Buffer.from(take(u8())).toString('latin1'));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()));
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(long(take(u32())));
        break;
      case 0x47: {
        // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      }
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l) || Object.isFrozen(l)) fail('APPEND to something that is not a list');
        (l as unknown[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l) || Object.isFrozen(l)) fail('APPENDS to something that is not a list');
        (l as unknown[]).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof Global) || !fn.def.call) fail(`REDUCE of something that is not an allowed function (${fn instanceof Global ? fn.qualname : typeof fn})`);
        if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
        stack.push((fn as Global).def.call!(args as unknown[]));
        break;
      }
      case 0x62: {
        // BUILD: state for an object built by REDUCE; state dicts only set OrderedDict's _metadata, which is not needed.
        pop();
        const obj = top();
        if (!(obj instanceof PickleDict)) fail('BUILD on an object other than an OrderedDict');
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id without a storage table');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x30: // POP
        if (stack.pop() === undefined) fail('stack underflow');
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        p = at;
        fail(`pickle opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}) is not one a state dict uses`);
    }
  }
}
