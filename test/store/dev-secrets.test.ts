import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { withDevSecrets } from '../../src/store/dev-secrets.js';

describe('development secrets', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are generated once, kept with mode 0600, and the same at the next start', () => {
    const first = withDevSecrets(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }, dir));
    const second = withDevSecrets(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }, dir));
    assert.equal(first.dataKey.length, 32);
    assert.equal(first.sessionSecret, second.sessionSecret);
    assert.ok(first.dataKey.equals(second.dataKey));
    assert.equal(statSync(path.join(dir, '.dev-secrets.json')).mode & 0o777, 0o600);
  });

  it('leave configured secrets alone', () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const c = withDevSecrets(loadConfig({ DATA_DIR: dir, SESSION_SECRET: 's'.repeat(40), DATA_KEY: key }, dir));
    assert.equal(c.sessionSecret, 's'.repeat(40));
    assert.equal(c.dataKey.toString('base64'), key);
  });

  it('refuse a damaged file instead of silently replacing the keys', () => {
    writeFileSync(path.join(dir, '.dev-secrets.json'), '{"sessionSecret":"x"}');
    assert.throws(() => withDevSecrets(loadConfig({ DATA_DIR: dir }, dir)), /damaged/);
  });
});
