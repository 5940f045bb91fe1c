import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

const cwd = '/srv/portal';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env, cwd);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('config', () => {
  it('gives safe development defaults with nothing set', () => {
    const c = loadConfig({}, cwd);
    assert.equal(c.env, 'development');
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 3443);
    assert.equal(c.mtlsPort, 3444);
    assert.equal(c.dataDir, path.join(cwd, 'data'));
    assert.equal(c.trust.profile, 'sandbox');
    assert.equal(c.revocation.policy, 'soft-fail');
    assert.equal(c.tls.certFile, path.join(cwd, 'certs/dev/server/chain.pem'));
    assert.equal(c.sessionSecretEphemeral, true);
    assert.ok(c.sessionSecret.length >= 32);
  });

  it('honours PORT, MTLS_PORT and DATA_DIR', () => {
    const c = loadConfig({ PORT: '8443', MTLS_PORT: '0', DATA_DIR: '/var/lib/portal' }, cwd);
    assert.equal(c.port, 8443);
    assert.equal(c.mtlsPort, 0);
    assert.equal(c.dataDir, '/var/lib/portal');
  });

  it('rejects malformed values with the variable named', () => {
    const problems = problemsOf({ PORT: 'eighty', REVOCATION_POLICY: 'sometimes', NODE_ENV: 'prod' });
    assert.ok(problems.some((p) => p.startsWith('PORT:')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('REVOCATION_POLICY:')));
    assert.ok(problems.some((p) => p.startsWith('NODE_ENV:')));
  });

  it('refuses production without its secrets and trust material, listing every problem', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    assert.deepEqual(problems.length, 5, problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('SMTP_URL is required in production')));
    assert.ok(problems.some((p) => p.includes('TLS_CERT_FILE')));
    assert.ok(problems.some((p) => p.includes('TRUST_LISTS')));
    assert.ok(problems.some((p) => p.includes('SESSION_SECRET is required')));
    assert.ok(problems.some((p) => p.includes('DATA_KEY is required')));
  });

  it('refuses the sandbox trust profile and short secrets in production', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      TLS_CERT_FILE: 'a.pem',
      TLS_KEY_FILE: 'a.key',
      TRUST_PROFILE: 'sandbox',
      SESSION_SECRET: 'short',
      DATA_KEY: 'dG9vIHNob3J0',
      DEMO_SEED: 'true',
    });
    assert.ok(problems.some((p) => p.includes('sandbox')));
    assert.ok(problems.some((p) => p.includes('at least 32')));
    assert.ok(problems.some((p) => p.includes('exactly 32 bytes')));
    assert.ok(problems.some((p) => p.includes('DEMO_SEED is refused')));
  });

  it('uses strict production defaults once configured', () => {
    const c = loadConfig(
      {
        NODE_ENV: 'production',
        TLS_CERT_FILE: '/etc/portal/tls.pem',
        TLS_KEY_FILE: '/etc/portal/tls.key',
        TRUST_LISTS: '/etc/portal/tl-de.xml, /etc/portal/tl-nl.xml',
        SESSION_SECRET: 'x'.repeat(40),
        DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
        SMTP_URL: 'smtps://portal:secret@smtp.bank.example:465',
      },
      cwd,
    );
    assert.equal(c.trust.profile, 'production');
    assert.deepEqual(c.notifications, { smtpUrl: 'smtps://portal:secret@smtp.bank.example:465', emailOff: false, mailFrom: c.notifications.mailFrom, intervalMs: 15_000 });
    assert.equal(c.dataKey?.length, 32);
    assert.equal(c.demoSeed, false);
    assert.deepEqual(c.trust.trustedLists, ['/etc/portal/tl-de.xml', '/etc/portal/tl-nl.xml']);
    assert.equal(c.trust.requireSignedLists, true);
    assert.equal(c.revocation.policy, 'hard-fail');
    assert.equal(c.revocation.allowPrivateNetworks, false);
    assert.equal(c.revocation.cacheMaxMs, 3_600_000);
    assert.equal(c.sessionSecretEphemeral, false);
  });
});

describe('config: e-mail', () => {
  const production = {
    NODE_ENV: 'production',
    TLS_CERT_FILE: '/etc/portal/tls.pem',
    TLS_KEY_FILE: '/etc/portal/tls.key',
    TRUST_LISTS: '/etc/portal/tl-de.xml',
    SESSION_SECRET: 'x'.repeat(40),
    DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
  };

  it('SMTP_URL=off runs production without e-mail on purpose', () => {
    const c = loadConfig({ ...production, SMTP_URL: 'off' }, cwd);
    assert.equal(c.notifications.smtpUrl, null);
    assert.equal(c.notifications.emailOff, true);
  });

  it('refuses another scheme than smtp/smtps, and production without SMTP_URL', () => {
    assert.ok(problemsOf({ SMTP_URL: 'http://mail.example' }).some((p) => p.startsWith('SMTP_URL:')));
    assert.ok(problemsOf({ SMTP_URL: 'OFF' }).some((p) => p.startsWith('SMTP_URL:')));
    assert.deepEqual(problemsOf(production).filter((p) => p.includes('SMTP_URL')).length, 1);
  });

  it('outside production an unset SMTP_URL is not off (the .eml file sink is used)', () => {
    const c = loadConfig({}, cwd);
    assert.deepEqual([c.notifications.smtpUrl, c.notifications.emailOff], [null, false]);
  });
});

describe('config documentation', () => {
  it('documents every variable the schema reads, in ENV_DOC and in the README table', async () => {
    const { CONFIG_KEYS, ENV_DOC } = await import('../../src/config.js');
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    assert.deepEqual([...CONFIG_KEYS].sort(), Object.keys(ENV_DOC).sort());
    const undocumented = CONFIG_KEYS.filter((k) => !new RegExp(`^\\| [^|]*\`${k}\``, 'm').test(readme));
    assert.deepEqual(undocumented, []);
  });
});
