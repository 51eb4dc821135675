import { expect } from 'chai';
import fc from 'fast-check';
import {
  H3_FRAME_ERROR,
  H3_SETTINGS_ERROR,
  SETTINGS_ENABLE_CONNECT_PROTOCOL,
  SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02,
  SETTINGS_H3_DATAGRAM,
  SETTINGS_H3_DATAGRAM_DRAFT04,
  SETTINGS_MAX_FIELD_SECTION_SIZE,
  SETTINGS_QPACK_BLOCKED_STREAMS,
  SETTINGS_QPACK_MAX_TABLE_CAPACITY,
  SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07,
  SETTINGS_WT_ENABLED,
  SETTINGS_WT_MAX_SESSIONS,
  isReservedGrease,
} from '../../../src/webtransport/constants.js';
import {
  SERVER_SETTINGS,
  decodeSettings,
  encodeSettings,
  peerWebTransportSupport,
  serverSettings,
} from '../../../src/webtransport/settings.js';
import { encodeVarint } from '../../../src/webtransport/varint.js';
import { concat, expectH3Error, fromHex } from './support.js';

/** What Chromium 156 sends (webtransport.md), with a GREASE setting. */
const CHROMIUM: Array<[number, number]> = [
  [0x01, 65536],
  [0x06, 16384],
  [0x07, 100],
  [0x33, 1],
  [0xffd277, 1],
  [0x2b603742, 1],
  [0x1f * 0x1234567 + 0x21, 0xabcdef],
];

describe('webtransport/settings', () => {
  it("round-trips Chromium's SETTINGS including a GREASE id (kept, not rejected)", () => {
    const decoded = decodeSettings(encodeSettings(CHROMIUM));
    expect([...decoded]).to.deep.equal(CHROMIUM);
    expect(isReservedGrease(CHROMIUM[6]![0])).to.equal(true);
  });

  it('keeps a GREASE id larger than 2^53 as an inexact unknown id', () => {
    const big = concat(
      encodeVarint((1n << 62n) - 1n - 2n),
      encodeVarint(0),
      encodeVarint(0x33),
      encodeVarint(1),
    );
    const decoded = decodeSettings(big);
    expect(decoded.get(0x33)).to.equal(1);
    expect(decoded.size).to.equal(2);
  });

  it('sees WebTransport draft-02 and datagrams in Chromium settings', () => {
    const support = peerWebTransportSupport(decodeSettings(encodeSettings(CHROMIUM)));
    expect(support).to.include({ webTransport: true, draft02: true, draft07: false, datagrams: true });
    expect(support.maxFieldSectionSize).to.equal(16384);
    expect(support.qpackMaxTableCapacity).to.equal(65536);
  });

  it('requires datagrams, a WebTransport setting, and (from a server) Extended CONNECT', () => {
    const s = (entries: Array<[number, number]>, server = false): boolean =>
      peerWebTransportSupport(new Map(entries), server).webTransport;
    expect(s([[SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02, 1]])).to.equal(false);
    expect(s([[SETTINGS_H3_DATAGRAM, 1]])).to.equal(false);
    expect(
      s([
        [SETTINGS_H3_DATAGRAM_DRAFT04, 1],
        [SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02, 1],
      ]),
    ).to.equal(true);
    expect(
      s([
        [SETTINGS_H3_DATAGRAM, 1],
        [SETTINGS_WT_MAX_SESSIONS, 1],
      ]),
    ).to.equal(true);
    expect(
      s([
        [SETTINGS_H3_DATAGRAM, 1],
        [SETTINGS_WT_ENABLED, 1],
      ]),
    ).to.equal(true);
    expect(
      s([
        [SETTINGS_H3_DATAGRAM, 1],
        [SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07, 4],
      ]),
    ).to.equal(true);
    expect(
      s(
        [
          [SETTINGS_H3_DATAGRAM, 1],
          [SETTINGS_WT_ENABLED, 1],
        ],
        true,
      ),
    ).to.equal(false);
    expect(
      s(
        [
          [SETTINGS_H3_DATAGRAM, 1],
          [SETTINGS_WT_ENABLED, 1],
          [SETTINGS_ENABLE_CONNECT_PROTOCOL, 1],
        ],
        true,
      ),
    ).to.equal(true);
    expect(peerWebTransportSupport(new Map()).maxFieldSectionSize).to.equal(Number.POSITIVE_INFINITY);
  });

  it('rejects a duplicate identifier with H3_SETTINGS_ERROR', () => {
    expectH3Error(() => decodeSettings(fromHex('0100 0100')), H3_SETTINGS_ERROR);
  });

  it('rejects HTTP/2 identifiers 0x02-0x05 with H3_SETTINGS_ERROR', () => {
    for (const id of [2, 3, 4, 5])
      expectH3Error(() => decodeSettings(encodeSettings([[id, 0]])), H3_SETTINGS_ERROR);
  });

  it('rejects boolean settings other than 0/1 with H3_SETTINGS_ERROR', () => {
    for (const id of [SETTINGS_ENABLE_CONNECT_PROTOCOL, SETTINGS_H3_DATAGRAM, SETTINGS_WT_ENABLED]) {
      expectH3Error(() => decodeSettings(encodeSettings([[id, 2]])), H3_SETTINGS_ERROR);
    }
  });

  it('rejects a payload ending inside a pair with H3_FRAME_ERROR, at every cut', () => {
    const bytes = encodeSettings([[0x2b603742, 1]]);
    for (let cut = 1; cut < bytes.length; cut++) {
      expectH3Error(() => decodeSettings(bytes.subarray(0, cut)), H3_FRAME_ERROR);
    }
  });

  it('caps the number of entries', () => {
    const many = encodeSettings(
      Array.from({ length: 300 }, (_, i): [number, number] => [0x21 + 0x1f * i, 0]),
    );
    expectH3Error(() => decodeSettings(many), H3_SETTINGS_ERROR);
  });

  it('serverSettings advertises both WebTransport generations (webtransport.md)', () => {
    const s = serverSettings({ maxFieldSectionSize: 16384, maxSessions: 8, greaseN: 3 });
    expect(s.get(SETTINGS_QPACK_MAX_TABLE_CAPACITY)).to.equal(0);
    expect(s.get(SETTINGS_QPACK_BLOCKED_STREAMS)).to.equal(0);
    expect(s.get(SETTINGS_MAX_FIELD_SECTION_SIZE)).to.equal(16384);
    expect(s.get(SETTINGS_ENABLE_CONNECT_PROTOCOL)).to.equal(1);
    expect(s.get(SETTINGS_H3_DATAGRAM)).to.equal(1);
    expect(s.get(SETTINGS_H3_DATAGRAM_DRAFT04)).to.equal(1);
    expect(s.get(SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02)).to.equal(1);
    expect(s.get(SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07)).to.equal(8);
    expect(s.get(SETTINGS_WT_MAX_SESSIONS)).to.equal(1); // > 1 would negotiate WT flow control
    expect(s.get(SETTINGS_WT_ENABLED)).to.equal(1);
    expect(s.get(0x1f * 3 + 0x21)).to.equal(0);
    // What we send is what a Chromium-like peer accepts, and it decodes cleanly.
    const support = peerWebTransportSupport(decodeSettings(encodeSettings(s)), true);
    expect(support).to.include({ webTransport: true, draft02: true, draft07: true, datagrams: true });
    expect(SERVER_SETTINGS.has(SETTINGS_MAX_FIELD_SECTION_SIZE)).to.equal(false);
    expect(SERVER_SETTINGS.get(SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02)).to.equal(1);
  });

  it('round-trips random settings (property)', () => {
    const id = fc.maxSafeNat().filter((n) => n < 2 || n > 5);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(id, fc.nat(1)), { selector: ([i]) => i, maxLength: 40 }),
        (entries) => {
          expect([...decodeSettings(encodeSettings(entries))]).to.deep.equal(entries);
        },
      ),
    );
  });
});
