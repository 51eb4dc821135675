import { expect } from 'chai';
import { openPermissions, permissionsFromConfig } from '../../../src/auth/permissions.js';
import {
  parseTopicRule,
  TopicPolicy,
  topicRuleProblems,
  type TopicClient,
} from '../../../src/auth/topic-policy.js';
import { defaultConfig, type TopicRule } from '../../../src/config/schema.js';

const rule = (r: Partial<TopicRule>): TopicRule => ({
  subscribe: 'none',
  publish: 'none',
  history: 'none',
  ...r,
});

function client(userId: string, opts: { granted?: string[]; subscribed?: string[] } = {}): TopicClient {
  return {
    userId,
    isGranted: (t) => opts.granted?.includes(t) === true,
    isSubscribed: (t) => opts.subscribed?.includes(t) === true,
  };
}

describe('topic policy', () => {
  it('lets the most specific rule decide: exact, then more literal characters, then the first listed', () => {
    const policy = new TopicPolicy(
      {
        '*': rule({ subscribe: 'any' }),
        'chat:*': rule({ subscribe: 'grant' }),
        'chat:lobby': rule({ subscribe: 'any', publish: 'any' }),
        'chat:team-*': rule({ subscribe: 'none' }),
        'x*': rule({ publish: 'any' }),
        '*x': rule({ publish: 'none' }),
      },
      'closed',
    );
    expect(policy.ruleFor('news', 'u').subscribe).to.equal('any');
    expect(policy.ruleFor('chat:room', 'u').subscribe).to.equal('grant');
    expect(policy.ruleFor('chat:lobby', 'u').publish).to.equal('any');
    expect(policy.ruleFor('chat:team-7', 'u').subscribe).to.equal('none');
    // "x*" and "*x" both match "xx" with one literal character each: the first listed wins.
    expect(policy.ruleFor('xx', 'u').publish).to.equal('any');
  });

  it('answers null when allowed and a reason naming the topic when not', () => {
    const policy = new TopicPolicy(
      {
        news: rule({ subscribe: 'any', history: 'any' }),
        'chat:*': rule({ subscribe: 'grant', publish: 'subscriber', history: 'grant' }),
      },
      'closed',
    );
    const alice = client('alice', { granted: ['chat:1'], subscribed: ['chat:1'] });
    const bob = client('bob');
    expect(policy.check('subscribe', 'news', bob)).to.equal(null);
    expect(policy.check('publish', 'news', bob)).to.match(
      /not allowed to publish to topic "news" \(no client may\)/,
    );
    expect(policy.check('subscribe', 'chat:1', alice)).to.equal(null);
    expect(policy.check('history', 'chat:1', alice)).to.equal(null);
    expect(policy.check('publish', 'chat:1', alice)).to.equal(null);
    expect(policy.check('subscribe', 'chat:1', bob)).to.match(/subscribe to topic "chat:1".*grant/);
    expect(policy.check('publish', 'chat:1', bob)).to.match(
      /publish to topic "chat:1".*subscribe to it first/,
    );
    expect(policy.check('subscribe', 'other', bob)).to.match(/topic "other"/);
  });

  it('resolves topics no rule matches by topics.unmatched: open, grant holders only, or closed', () => {
    const open = new TopicPolicy({}, 'open');
    const grant = new TopicPolicy({}, 'grant');
    const closed = new TopicPolicy({}, 'closed');
    const u = client('u');
    const holder = client('h', { granted: ['t'] });
    for (const action of ['subscribe', 'publish', 'history'] as const) {
      expect(open.check(action, 't', u)).to.equal(null);
      expect(grant.check(action, 't', u)).to.match(/needs a grant/);
      expect(grant.check(action, 't', holder)).to.equal(null);
      expect(closed.check(action, 't', holder)).to.match(/no client may/);
    }
  });

  it('keeps $ topics for the server: no client publishes, and only $ rules open them', () => {
    const policy = new TopicPolicy({ $all: rule({ subscribe: 'any', history: 'any' }), '*': OPEN }, 'open');
    const u = client('u', { granted: ['$all', '$secret'], subscribed: ['$all'] });
    expect(policy.check('subscribe', '$all', u)).to.equal(null);
    expect(policy.check('publish', '$all', u)).to.match(/reserved: only the server publishes/);
    // Neither "*" nor topics.unmatched open reaches a $ topic without a rule of its own.
    expect(policy.check('subscribe', '$secret', u)).to.be.a('string');
    expect(policy.check('publish', '$secret', u)).to.be.a('string');
  });

  it('gives each user their own topics with {user}', () => {
    const policy = new TopicPolicy(
      { 'inbox:*': rule({}), 'inbox:{user}': rule({ subscribe: 'any', history: 'any' }) },
      'open',
    );
    expect(policy.check('subscribe', 'inbox:alice', client('alice'))).to.equal(null);
    expect(policy.check('subscribe', 'inbox:alice', client('bob'))).to.be.a('string');
    expect(policy.check('subscribe', 'inbox:a*', client('a*'))).to.equal(null);
    expect(policy.check('subscribe', 'inbox:abc', client('a*'))).to.be.a('string');
  });

  it('parses rules from configuration and reports bad ones', () => {
    expect(parseTopicRule({ subscribe: 'any' })).to.deep.equal({
      ok: true,
      value: { subscribe: 'any', publish: 'none', history: 'none' },
    });
    expect(parseTopicRule({ subscribe: 'subscriber' }).ok).to.equal(false);
    expect(parseTopicRule({ read: 'any' }).ok).to.equal(false);
    expect(parseTopicRule('any').ok).to.equal(false);
    expect(topicRuleProblems({ $x: rule({ publish: 'any' }) }, 256)).to.have.length(1);
    expect(topicRuleProblems({ 'a b': rule({}) }, 256)).to.have.length(1);
    expect(topicRuleProblems({ ['x'.repeat(300)]: rule({}) }, 256)).to.have.length(1);
    expect(topicRuleProblems({ 'chat:*': rule({ publish: 'any' }) }, 256)).to.deep.equal([]);
  });

  it('opens auto settings only on the development secret', () => {
    const dev = defaultConfig();
    const p = permissionsFromConfig(dev);
    expect(p.topics.unmatched.subscribe).to.equal('any');
    expect(p.presence).to.equal('everyone');
    expect(openPermissions(dev)).to.have.length(2);

    const prod = defaultConfig();
    prod.auth.hmacSecrets = { '': 'x'.repeat(32) };
    const q = permissionsFromConfig(prod);
    expect(q.topics.unmatched).to.deep.equal({ subscribe: 'grant', publish: 'grant', history: 'grant' });
    expect(q.presence).to.equal('granted');
    expect(openPermissions(prod)).to.deep.equal([]);
    prod.topics.unmatched = 'open';
    expect(openPermissions(prod)[0]).to.match(/topics\.unmatched is "open"/);

    const message = defaultConfig();
    message.access.role = 'message';
    expect(permissionsFromConfig(message).topics.unmatched.subscribe).to.equal('grant');
  });
});

const OPEN: TopicRule = { subscribe: 'any', publish: 'any', history: 'any' };
