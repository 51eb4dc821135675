import { createCipheriv, createDecipheriv } from 'node:crypto';
import { expect } from 'chai';
import {
  initialConnectionClose,
  serverInitialKeys,
} from '../../../../src/webtransport/quic/initial-close.js';

describe('initialConnectionClose (stateless CONNECTION_CLOSE in an Initial packet)', function () {
  it('derives the server Initial keys of RFC 9001 Appendix A.1', function () {
    const keys = serverInitialKeys(Buffer.from('8394c8f03e515708', 'hex'));
    expect(keys.key.toString('hex')).to.equal('cf3a5331653c364c88f0f379b6067e37');
    expect(keys.iv.toString('hex')).to.equal('0ac1493ca1905853b0bba03e');
    expect(keys.hp.toString('hex')).to.equal('c206b8d9b9f0f37644430b490eeaa314');
  });

  it('builds an Initial the client can unprotect and decrypt, carrying CONNECTION_CLOSE with code and reason', function () {
    const clientScid = Buffer.from('c0ffee', 'hex');
    const clientDcid = Buffer.from('8394c8f03e515708', 'hex');
    const packet = initialConnectionClose(
      clientScid,
      clientDcid,
      0x2,
      '4007 too many connections from this address',
    );
    // RFC 9000 §17.2.2: long header, Initial, version 1, DCID = client's SCID, SCID = client's DCID.
    expect(packet[0]! & 0xf0).to.equal(0xc0);
    expect(packet.readUInt32BE(1)).to.equal(1);
    expect(packet[5]).to.equal(3);
    expect(packet.subarray(6, 9)).to.deep.equal(clientScid);
    expect(packet[9]).to.equal(8);
    expect(packet.subarray(10, 18)).to.deep.equal(clientDcid);
    expect(packet[18]).to.equal(0); // no token
    // Length (2-byte varint here), then the protected packet number.
    const length = ((packet[19]! & 0x3f) << 8) | packet[20]!;
    const pnOffset = 21;
    expect(packet.length).to.equal(pnOffset + length);

    const keys = serverInitialKeys(clientDcid);
    const sample = packet.subarray(pnOffset + 4, pnOffset + 20);
    const mask = createCipheriv('aes-128-ecb', keys.hp, null).update(sample);
    const first = packet[0]! ^ (mask[0]! & 0x0f);
    const pnLength = (first & 0x03) + 1;
    const header = Buffer.from(packet.subarray(0, pnOffset + pnLength));
    header[0] = first;
    for (let i = 0; i < pnLength; i++) header[pnOffset + i] = packet[pnOffset + i]! ^ mask[1 + i]!;
    expect(header.subarray(pnOffset).every((b) => b === 0)).to.equal(true); // packet number 0

    const body = packet.subarray(pnOffset + pnLength);
    const aead = createDecipheriv('aes-128-gcm', keys.key, keys.iv);
    aead.setAAD(header);
    aead.setAuthTag(body.subarray(body.length - 16));
    const plain = Buffer.concat([aead.update(body.subarray(0, body.length - 16)), aead.final()]);
    // RFC 9000 §19.19: type 0x1c, error code, frame type, reason length, reason; then PADDING.
    const reason = '4007 too many connections from this address';
    expect([...plain.subarray(0, 4)]).to.deep.equal([0x1c, 0x02, 0x00, reason.length]);
    expect(plain.subarray(4, 4 + reason.length).toString()).to.equal(reason);
    expect(plain.subarray(4 + reason.length).every((b) => b === 0)).to.equal(true);
  });

  it('pads a short close so the header-protection sample fits', function () {
    const packet = initialConnectionClose(Buffer.alloc(0), Buffer.alloc(8, 1), 0x2, '');
    const pnOffset = 1 + 4 + 1 + 0 + 1 + 8 + 1 + 1;
    expect(packet.length).to.be.at.least(pnOffset + 4 + 16);
  });
});
