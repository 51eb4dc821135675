import { expect } from 'chai';
import fc from 'fast-check';
import { PatternSet, TopicPattern } from '../../../src/auth/topic-pattern.js';

/** A reference implementation: `*` -> `.*`, everything else literal. */
function reference(pattern: string, topic: string): boolean {
  if (topic.startsWith('$') && !pattern.startsWith('$')) return false;
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's').test(topic);
}

describe('topic patterns', () => {
  it('match exact names, prefixes, suffixes and infixes', () => {
    const cases: [string, string, boolean][] = [
      ['news', 'news', true],
      ['news', 'news2', false],
      ['chat:*', 'chat:', true],
      ['chat:*', 'chat:room-1', true],
      ['chat:*', 'chats:room-1', false],
      ['*.orders', 'eu.orders', true],
      ['*.orders', 'eu.orders.x', false],
      ['team-*-room', 'team-7-room', true],
      ['team-*-room', 'team--room', true],
      ['team-*-room', 'team-room', false],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'aXbYbZc', true],
      ['a*b*c', 'acb', false],
      ['*', 'anything', true],
      ['**', '', true],
    ];
    for (const [pattern, topic, want] of cases) {
      expect(new TopicPattern(pattern).matches(topic), `${pattern} ~ ${topic}`).to.equal(want);
    }
  });

  it('never let a pattern without a leading $ reach a $ topic', () => {
    expect(new TopicPattern('*').matches('$all')).to.equal(false);
    expect(new TopicPattern('$*').matches('$all')).to.equal(true);
    expect(new TopicPattern('$all').matches('$all')).to.equal(true);
    expect(new PatternSet(['*']).matches('$all')).to.equal(false);
  });

  it('substitutes {user} literally, wildcards in the user id included', () => {
    const p = new TopicPattern('inbox:{user}', { allowUser: true });
    expect(p.perUser).to.equal(true);
    expect(p.matches('inbox:alice', 'alice')).to.equal(true);
    expect(p.matches('inbox:alice', 'bob')).to.equal(false);
    // A user named "a*" owns "inbox:a*" only, not every inbox starting with "a".
    expect(p.matches('inbox:abc', 'a*')).to.equal(false);
    expect(p.matches('inbox:a*', 'a*')).to.equal(true);
    expect(p.weight('alice')).to.equal('inbox:alice'.length);
    // Without allowUser (grants), {user} is an ordinary part of a name.
    expect(new TopicPattern('inbox:{user}').matches('inbox:{user}')).to.equal(true);
  });

  it('agree with a regular-expression reference on random patterns and topics', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', ':', '$', 'é');
    const str = (max: number) => fc.array(alphabet, { maxLength: max }).map((a) => a.join(''));
    fc.assert(
      fc.property(str(8), str(10), (pattern, topic) => {
        expect(new TopicPattern(pattern).matches(topic)).to.equal(reference(pattern, topic));
        expect(new PatternSet([pattern]).matches(topic)).to.equal(reference(pattern, topic));
      }),
      { numRuns: 2000 },
    );
  });
});
