import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ulid, ulidTime } from '../src/lib/ulid.js';
import { backoffDelay } from '../src/lib/backoff.js';
import { readCookie } from '../src/lib/cookies.js';
import { t, setLocale, negotiate, CATALOGS } from '../src/lib/i18n.js';

test('ULIDs are 26 Crockford characters, carry their time, and sort in creation order', () => {
  const ids = Array.from({ length: 50 }, () => ulid(1_764_172_800_000));
  for (const id of ids) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ulidTime(ids[0]), 1_764_172_800_000);
});

test('backoff grows exponentially, is capped, and is jittered', () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 250);
  assert.equal(backoffDelay(0, { random: () => 1 }), 500);
  assert.equal(backoffDelay(3, { random: () => 1 }), 4000);
  assert.equal(backoffDelay(30, { random: () => 1 }), 30_000);
});

test('readCookie finds one cookie among many', () => {
  assert.equal(readCookie('a=1; csrftoken=abc%3D; b=2', 'csrftoken'), 'abc=');
  assert.equal(readCookie('', 'csrftoken'), null);
});

test('i18n: placeholders, plural forms, fallback to English, language negotiation', () => {
  setLocale('en');
  assert.equal(t('composer.placeholder', { name: 'general' }), 'Message #general');
  assert.equal(t('status.pendingTitle', { count: 1 }), 'One change waits to be sent.');
  assert.equal(t('status.pendingTitle', { count: 3 }), '3 changes wait to be sent.');
  assert.equal(negotiate(['zh-Hans-CN', 'en']), 'zh-CN');
  assert.equal(negotiate(['zh-TW']), 'en');
  assert.equal(negotiate(['fr-FR', 'en-GB']), 'en');
  setLocale('zh-CN');
  assert.equal(t('composer.send'), '发送');
  setLocale('en');
});

test('every zh-CN key exists in English, and the accessible names tests drive stay exact', () => {
  for (const key of Object.keys(CATALOGS['zh-CN'])) assert.ok(key in CATALOGS.en, key);
  const en = CATALOGS.en;
  assert.deepEqual(
    [en['auth.name'], en['auth.email'], en['auth.password'], en['auth.createAccount'], en['auth.signIn']],
    ['Name', 'Email', 'Password', 'Create account', 'Sign in'],
  );
  assert.deepEqual([en['nav.channels'], en['composer.label'], en['composer.send']], ['Channels', 'Message', 'Send']);
  assert.deepEqual([en['status.online'], en['status.offline'], en['status.syncing']], ['Online', 'Offline', 'Syncing']);
});

import { deviceName } from '../src/lib/device-name.js';

test('device names are short and human', () => {
  assert.equal(
    deviceName('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36'),
    'Chrome on Linux',
  );
  assert.equal(deviceName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1'), 'Safari on iOS');
  assert.equal(deviceName(''), 'Browser');
});
