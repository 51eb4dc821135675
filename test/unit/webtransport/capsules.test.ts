import { expect } from 'chai';
import {
  CapsuleReader,
  datagramHeaderLength,
  datagramHeaderSize,
  decodeCloseSession,
  encodeCapsule,
  encodeCloseSessionCapsule,
  encodeDatagram,
  encodeDrainSessionCapsule,
  readDatagramSessionId,
  truncateUtf8,
  writeDatagramHeader,
} from '../../../src/webtransport/capsules.js';
import {
  CAPSULE_CLOSE_WEBTRANSPORT_SESSION,
  CAPSULE_DATAGRAM,
  CAPSULE_DRAIN_WEBTRANSPORT_SESSION,
  H3_DATAGRAM_ERROR,
  H3_INTERNAL_ERROR,
  H3_MESSAGE_ERROR,
} from '../../../src/webtransport/constants.js';
import { concat, expectH3Error, fromHex, splits, toHex } from './support.js';

function collect(chunks: Uint8Array[], finish = true): string[] {
  const out: string[] = [];
  const reader = new CapsuleReader({
    onCapsule: (type, value) => out.push(`${type.toString(16)}:${toHex(value)}`),
  });
  for (const c of chunks) reader.push(c);
  if (finish) reader.finish();
  return out;
}

// Chromium sends a GREASE capsule right after CONNECT; then a drain and a close.
const STREAM = concat(
  encodeCapsule(0x1f * 77 + 0x21, fromHex('0102030405')),
  encodeCapsule(0x190b4d3f, fromHex('40ff')), // draft-09+ WT_MAX_STREAMS: ignored
  encodeDrainSessionCapsule(),
  encodeCloseSessionCapsule(4000, 'bye'),
);
const EXPECTED = ['78ae:', '2843:00000fa0627965'];

describe('webtransport/capsules', () => {
  it('encodes CLOSE_WEBTRANSPORT_SESSION and DRAIN', () => {
    expect(toHex(encodeCloseSessionCapsule(4000, 'bye'))).to.equal('6843' + '07' + '00000fa0' + '627965');
    expect(toHex(encodeDrainSessionCapsule())).to.equal('800078ae00');
  });

  it('parses known capsules and skips GREASE / unknown ones', () => {
    expect(collect([STREAM])).to.deep.equal(EXPECTED);
  });

  it('parses the same capsules split at every offset and byte by byte', () => {
    for (const chunks of splits(STREAM)) expect(collect(chunks)).to.deep.equal(EXPECTED);
  });

  it('decodes the close value: u32 code and UTF-8 reason', () => {
    const [, hex] = collect([encodeCloseSessionCapsule(0xfffffffe, 'ciao ✓')])[0]!.split(':');
    expect(decodeCloseSession(fromHex(hex!))).to.deep.equal({ code: 0xfffffffe, reason: 'ciao ✓' });
    expect(decodeCloseSession(fromHex('00000000'))).to.deep.equal({ code: 0, reason: '' });
    expectH3Error(() => decodeCloseSession(fromHex('000000')), H3_MESSAGE_ERROR);
    expectH3Error(() => decodeCloseSession(new Uint8Array(4 + 1025)), H3_MESSAGE_ERROR);
  });

  it('truncates reasons to 1024 bytes on a character boundary', () => {
    const reason = 'é'.repeat(600); // 1200 bytes
    const capsule = encodeCloseSessionCapsule(1, reason);
    const value = capsule.subarray(4); // 2-byte type, 2-byte length
    const info = decodeCloseSession(value);
    expect(info.reason).to.equal('é'.repeat(512));
    expect(truncateUtf8('ab✓', 4)).to.deep.equal(new TextEncoder().encode('ab'));
  });

  it('rejects impossible known capsule sizes with H3_MESSAGE_ERROR', () => {
    expectH3Error(
      () => collect([encodeCapsule(CAPSULE_CLOSE_WEBTRANSPORT_SESSION, fromHex('0000'))]),
      H3_MESSAGE_ERROR,
    );
    expectH3Error(() => collect([fromHex('6843 4405')]), H3_MESSAGE_ERROR); // 1029 bytes declared
    expectH3Error(
      () => collect([encodeCapsule(CAPSULE_DRAIN_WEBTRANSPORT_SESSION, fromHex('00'))]),
      H3_MESSAGE_ERROR,
    );
    expectH3Error(() => collect([fromHex('00 80100000')]), H3_MESSAGE_ERROR); // DATAGRAM capsule of 1 MiB
  });

  it('delivers DATAGRAM capsules', () => {
    expect(collect([encodeCapsule(CAPSULE_DATAGRAM, fromHex('6869'))])).to.deep.equal(['0:6869']);
  });

  it('rejects data after CLOSE with H3_MESSAGE_ERROR', () => {
    const close = encodeCloseSessionCapsule(0, '');
    expectH3Error(() => collect([concat(close, fromHex('00'))]), H3_MESSAGE_ERROR);
    expectH3Error(() => collect([close, fromHex('00')]), H3_MESSAGE_ERROR);
    const reader = new CapsuleReader({ onCapsule: () => {} });
    reader.push(close);
    expect(reader.closed).to.equal(true);
    reader.finish();
  });

  it('throws H3_MESSAGE_ERROR when the stream ends inside a capsule, at every cut', () => {
    const bytes = encodeCloseSessionCapsule(7, 'x');
    for (let cut = 1; cut < bytes.length; cut++) {
      expectH3Error(() => collect([bytes.subarray(0, cut)]), H3_MESSAGE_ERROR);
    }
    const grease = encodeCapsule(0x21, fromHex('0102'));
    for (let cut = 1; cut < grease.length; cut++) {
      expectH3Error(() => collect([grease.subarray(0, cut)]), H3_MESSAGE_ERROR);
    }
  });

  describe('datagrams (RFC 9297 §2.1)', () => {
    it('writes the quarter stream id before the payload', () => {
      expect(toHex(encodeDatagram(0, fromHex('6869')))).to.equal('006869');
      expect(toHex(encodeDatagram(400, fromHex('ff')))).to.equal('4064ff');
      expect(datagramHeaderSize(400)).to.equal(2);
      const buf = new Uint8Array(4);
      expect(writeDatagramHeader(buf, 1, 4)).to.equal(2);
      expectH3Error(() => writeDatagramHeader(buf, 0, 2), H3_INTERNAL_ERROR);
    });

    it('reads the session id and the payload offset', () => {
      const d = fromHex('4064 ff');
      expect(readDatagramSessionId(d)).to.equal(400);
      expect(toHex(d.subarray(datagramHeaderLength(d)))).to.equal('ff');
      expect(datagramHeaderLength(new Uint8Array(0))).to.equal(0);
    });

    it('rejects empty, truncated and huge ids with H3_DATAGRAM_ERROR', () => {
      expectH3Error(() => readDatagramSessionId(new Uint8Array(0)), H3_DATAGRAM_ERROR);
      expectH3Error(() => readDatagramSessionId(fromHex('40')), H3_DATAGRAM_ERROR);
      expectH3Error(() => readDatagramSessionId(fromHex('ffffffffffffffff')), H3_DATAGRAM_ERROR);
    });
  });
});
