import { expect } from 'chai';
import { H3Error } from '../../../src/webtransport/errors.js';

/** Bytes from hex, ignoring whitespace ("0000 510b" style fixtures from the RFCs). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Runs `fn` and checks it throws an H3Error with `code` (and returns it). */
export function expectH3Error(fn: () => unknown, code: number): H3Error {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(H3Error);
    expect((err as H3Error).code, (err as H3Error).message).to.equal(code);
    return err as H3Error;
  }
  expect.fail(`expected H3Error 0x${code.toString(16)}`);
}

/** Runs `fn`; any exception other than H3Error fails the test. Returns whether it threw. */
export function onlyH3Errors(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (!(err instanceof H3Error)) throw err;
    return true;
  }
}

/** Every way to cut `bytes` into two pieces, plus byte-by-byte. */
export function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  return out;
}

export { TIME_FACTOR } from '../../helpers/time-factor.js';

/** Milliseconds `fn` takes. */
export function timeMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
