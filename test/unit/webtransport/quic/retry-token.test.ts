import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { RetryTokens } from '../../../../src/webtransport/quic/retry-token.js';

describe('RetryTokens (RFC 9000 §8.1.2)', function () {
  const peer = { host: '127.0.0.1', port: 40000 };
  const odcid = randomBytes(8);
  const retryScid = randomBytes(20);
  let now = 1_000_000;
  const tokens = new RetryTokens(10_000, randomBytes(32), () => now);

  it('validates its own token from the same address and connection id', function () {
    const token = tokens.mint(peer, odcid, retryScid);
    const result = tokens.validate(token, peer, retryScid);
    expect(result).to.not.equal(null);
    expect(Buffer.from(result!.originalDcid).equals(odcid)).to.equal(true);
  });

  it('rejects another address, port or connection id', function () {
    const token = tokens.mint(peer, odcid, retryScid);
    expect(tokens.validate(token, { host: '127.0.0.2', port: 40000 }, retryScid)).to.equal(null);
    expect(tokens.validate(token, { host: '127.0.0.1', port: 40001 }, retryScid)).to.equal(null);
    expect(tokens.validate(token, peer, randomBytes(20))).to.equal(null);
  });

  it('rejects expired, tampered, truncated and foreign tokens', function () {
    const token = tokens.mint(peer, odcid, retryScid);
    now += 10_001;
    expect(tokens.validate(token, peer, retryScid)).to.equal(null);
    now -= 10_001;
    const tampered = Buffer.from(token);
    tampered[12] = tampered[12]! ^ 1;
    expect(tokens.validate(tampered, peer, retryScid)).to.equal(null);
    expect(tokens.validate(token.subarray(0, token.length - 1), peer, retryScid)).to.equal(null);
    expect(tokens.validate(new Uint8Array(0), peer, retryScid)).to.equal(null);
    const other = new RetryTokens(10_000, randomBytes(32), () => now);
    expect(other.validate(token, peer, retryScid)).to.equal(null);
  });
});
