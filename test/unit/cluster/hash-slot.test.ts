import { expect } from 'chai';
import { hashSlot } from '../../../src/cluster/redis-link.js';

describe('hashSlot (Redis Cluster key slots)', () => {
  it('is CRC16/XMODEM of the key modulo 16384', () => {
    // The CRC16/XMODEM check value: CRC("123456789") = 0x31C3.
    expect(hashSlot('123456789')).to.equal(0x31c3);
    // CLUSTER KEYSLOT answers of Redis 7.0.
    expect(hashSlot('foo')).to.equal(12182);
    expect(hashSlot('somekey')).to.equal(11058);
    expect(hashSlot('foo{hash_tag}')).to.equal(2515);
  });

  it('hashes only the hash tag when there is a non-empty one', () => {
    expect(hashSlot('{user1000}.following')).to.equal(hashSlot('user1000'));
    expect(hashSlot('ferry:{u:alice}:log')).to.equal(hashSlot('ferry:{u:alice}:seq'));
    expect(hashSlot('ferry:{u:alice}:log')).to.equal(hashSlot('u:alice'));
    // An empty tag does not count: the whole key is hashed; only the first `{` opens a tag.
    expect(hashSlot('foo{}{bar}')).to.not.equal(hashSlot('bar'));
    expect(hashSlot('foo{{bar}}zap')).to.equal(hashSlot('{bar'));
  });
});
