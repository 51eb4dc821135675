import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { encodeFrame, encodeFramePrefixed } from '../../../src/protocol/codec.js';
import { BODY_FIELD_NUMBERS, DEFAULT_MAX_FRAME_BYTES } from '../../../src/protocol/constants.js';
import { codePointName, FORBIDDEN_IDENTIFIER_RANGES } from '../../../src/protocol/identifier.js';
import { defaultConfig } from '../../../src/config/schema.js';
import { FRAME_FIXTURES } from '../../fixtures/frames.js';
import { toHex } from './support.js';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
const doc = read('../../../docs/protocol.md');
const proto = read('../../../proto/ferry/v1/frame.proto');

/** The hex bytes of a doc code block, ignoring everything but the leading byte columns. */
function docBytes(afterHeading: string): string {
  const start = doc.indexOf(afterHeading);
  const block = doc.slice(
    doc.indexOf('```\n', start) + 4,
    doc.indexOf('\n```', doc.indexOf('```\n', start) + 4),
  );
  return block
    .split('\n')
    .map((line) => /^\s*((?:[0-9a-f]{2} )*[0-9a-f]{2})(?:\s{2,}|$)/.exec(line)?.[1] ?? '')
    .join('')
    .replace(/ /g, '');
}

describe('docs/protocol.md', () => {
  it('reproduces proto/ferry/v1/frame.proto verbatim', () => {
    expect(doc).to.include('```proto\n' + proto + '```');
  });

  it('states the default frame limit that the code uses', () => {
    expect(defaultConfig().limits.maxFrameBytes).to.equal(DEFAULT_MAX_FRAME_BYTES);
    expect(doc).to.include('65536 bytes (64 KiB) by\n  default');
  });

  it('lists the tag bytes of every body as the encoder writes them', () => {
    for (const [name, field] of Object.entries(BODY_FIELD_NUMBERS)) {
      const tag = toHex(encodeFrame({ [name]: {} })).slice(0, -2); // drop the 00 length
      const spaced = tag.match(/../g)!.join(' ');
      const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      expect(doc, `${snake} (${field})`).to.include(`| ${snake} (${field}) | \`${spaced}\` |`);
    }
  });

  it('shows the worked Authenticate example with the bytes the encoder produces', () => {
    const fixture = FRAME_FIXTURES.find((f) => f.name === 'authenticate')!;
    expect(docBytes('### 4.2 Worked example: Authenticate')).to.equal(fixture.hex);
    expect(toHex(encodeFramePrefixed(fixture.frame)).slice(0, 8)).to.equal('00000018');
    expect(doc).to.include('`00 00 00 18` followed by those 24 bytes');
  });

  it('shows the worked Send and SendAck examples with the bytes the encoder produces', () => {
    const send = FRAME_FIXTURES.find((f) => f.name === 'send, QoS 1')!;
    const ack = FRAME_FIXTURES.find((f) => f.name === 'sendAck, duplicate')!;
    expect(docBytes('### 4.3 Worked example: Send')).to.equal(send.hex);
    expect(docBytes('The server answers with a SendAck')).to.equal(ack.hex);
    expect(toHex(encodeFramePrefixed(send.frame)).slice(0, 8)).to.equal('00000014');
  });

  it('shows the Deliver of a server push with the from_service bytes the encoder produces', () => {
    const deliver = FRAME_FIXTURES.find((f) => f.name === 'deliver, from a service (Push)')!;
    expect(docBytes('A Deliver that the server side originated')).to.equal(deliver.hex);
  });

  it('lists exactly the code points a valid identifier must not contain (§5.9)', () => {
    const listed = FORBIDDEN_IDENTIFIER_RANGES.map(([a, b]) =>
      a === b ? codePointName(a) : `${codePointName(a)}-${codePointName(b)}`,
    ).join(', ');
    // The doc wraps lines; compare with whitespace collapsed.
    expect(doc.replace(/\s+/g, ' ')).to.include(`these are exactly: ${listed} (`);
    expect(doc).to.include('at most 128 **UTF-8 bytes**');
    expect(defaultConfig().limits.maxUserIdLength).to.equal(128);
  });
});
