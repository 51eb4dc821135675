import { expect } from 'chai';
import { nativeEngine, parseLongHeader } from '../../../../src/webtransport/quic/native-engine.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('native engine: stateless packet helpers (no addon needed)', function () {
  // RFC 9000 §17.2.2: Initial, version 1, DCID 8 bytes, SCID 4 bytes, token length 2 (varint), token.
  const initial = hex('c3 00000001 08 0102030405060708 04 a1a2a3a4 02 beef 4020 00');

  it('parses an Initial: version, both ids and the token', function () {
    const h = parseLongHeader(initial)!;
    expect(h.type).to.equal('initial');
    expect(h.version).to.equal(1);
    expect(Buffer.from(h.dcid).toString('hex')).to.equal('0102030405060708');
    expect(Buffer.from(h.scid).toString('hex')).to.equal('a1a2a3a4');
    expect(Buffer.from(h.token!).toString('hex')).to.equal('beef');
  });

  it('reads a two-byte token length varint (RFC 9000 §16)', function () {
    const h = parseLongHeader(hex('c0 00000001 00 00 4003 aabbcc'))!;
    expect(Buffer.from(h.token!).toString('hex')).to.equal('aabbcc');
  });

  it('types Handshake, 0-RTT and Retry by the long packet type bits', function () {
    expect(parseLongHeader(hex('e0 00000001 00 00 00'))!.type).to.equal('handshake');
    expect(parseLongHeader(hex('d0 00000001 00 00 00'))!.type).to.equal('0rtt');
    expect(parseLongHeader(hex('f0 00000001 00 00 00'))!.type).to.equal('retry');
    expect(parseLongHeader(hex('80 00000000 00 00 00000001'))!.type).to.equal('version-negotiation');
  });

  it('returns null for every truncation of an Initial before its token ends, and for ids over 20 bytes', function () {
    for (let n = 0; n < 22; n++)
      expect(parseLongHeader(initial.subarray(0, n)), `length ${n}`).to.equal(null);
    expect(parseLongHeader(hex('c0 00000001 15' + '00'.repeat(21) + '00 00'))).to.equal(null);
  });

  it('writes Version Negotiation with the ids swapped and version 1 offered (RFC 9000 §17.2.1)', function () {
    const out = new Uint8Array(64);
    const n = nativeEngine.negotiateVersion(hex('a1a2'), hex('0102030405060708'), out);
    const vn = out.subarray(0, n);
    expect(vn[0]! & 0x80).to.equal(0x80);
    expect(Buffer.from(vn.subarray(1)).toString('hex')).to.equal(
      '00000000' + '02a1a2' + '080102030405060708' + '00000001',
    );
    expect(nativeEngine.negotiateVersion(hex('a1a2'), hex('0102'), new Uint8Array(8))).to.equal(0);
  });
});
