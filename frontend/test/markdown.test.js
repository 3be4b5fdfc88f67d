import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMarkdown, parseInline, safeUrl } from '../src/lib/markdown.js';
import { findMentions, mentionAt } from '../src/lib/mentions.js';

test('bold, italics, code and safe links become nodes; HTML stays text', () => {
  assert.deepEqual(parseInline('a **b** *c* `d<e>`'), [
    { type: 'text', text: 'a ' },
    { type: 'strong', children: [{ type: 'text', text: 'b' }] },
    { type: 'text', text: ' ' },
    { type: 'em', children: [{ type: 'text', text: 'c' }] },
    { type: 'text', text: ' ' },
    { type: 'code', text: 'd<e>' },
  ]);
  assert.deepEqual(parseInline('<img src=x onerror=alert(1)>'), [{ type: 'text', text: '<img src=x onerror=alert(1)>' }]);
  assert.deepEqual(parseInline('[docs](https://example.com/a)'), [
    { type: 'link', href: 'https://example.com/a', children: [{ type: 'text', text: 'docs' }] },
  ]);
});

test('javascript: and other schemes are never links', () => {
  for (const text of ['[x](javascript:alert(1))', '[x](javascript:alert`1`)', '[x](JaVaScRiPt:void)', '[x](data:text/html,hi)']) {
    const nodes = parseInline(text);
    assert.ok(nodes.every((n) => n.type === 'text'), text);
    assert.equal(nodes.map((n) => n.text).join(''), text);
  }
  assert.ok(safeUrl('mailto:ada@example.com'));
  assert.ok(!safeUrl('javascript:alert(1)'));
  assert.ok(!safeUrl('//evil.example'));
});

test('snake_case is not italics; unclosed markers are text', () => {
  assert.deepEqual(parseInline('use my_var_name here'), [{ type: 'text', text: 'use my_var_name here' }]);
  assert.deepEqual(parseInline('**open'), [{ type: 'text', text: '**open' }]);
});

test('blocks: paragraphs, lists and fenced code', () => {
  const blocks = parseMarkdown('hello\nworld\n\n- one\n- two\n1. first\n```\n<b>x</b>\n```');
  assert.deepEqual(blocks.map((b) => b.type), ['p', 'ul', 'ol', 'code']);
  assert.equal(blocks[0].lines.length, 2);
  assert.equal(blocks[1].items.length, 2);
  assert.equal(blocks[3].text, '<b>x</b>');
});

test('mentions: full names, email names, @channel; longest name first', () => {
  const people = [
    { id: 'U1', name: 'Ada', email: 'ada1@example.com' },
    { id: 'U2', name: 'Ada Lovelace', email: 'ada@example.com' },
    { id: 'U3', name: 'Bob', email: 'bob@example.com' },
  ];
  assert.equal(findMentions('hi @Ada Lovelace and @channel', people), 'channel U2');
  assert.equal(findMentions('@bob, look', people), 'U3');
  assert.equal(findMentions('mail bob@example.com', people), '');
  assert.deepEqual(mentionAt('hello @Ad', 9), { query: 'Ad', start: 6 });
  assert.equal(mentionAt('hello', 5), null);
});
