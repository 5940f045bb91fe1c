/**
 * Development only: the session secret and the data key are generated once and kept beside the database
 * (`DATA_DIR/.dev-secrets.json`, mode 0600), so that sessions and TOTP enrolments survive a restart without
 * anyone having to set secrets by hand. Production never reaches this: config refuses to start without them.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config.js';

const FILE = '.dev-secrets.json';
const stored = z.object({ sessionSecret: z.string().min(32), dataKey: z.string().min(40) });

export function withDevSecrets(config: Config): Config & { dataKey: Buffer } {
  if (config.dataKey && !config.sessionSecretEphemeral) return { ...config, dataKey: config.dataKey };
  if (config.env === 'production') throw new Error('production configuration without SESSION_SECRET or DATA_KEY');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(config.dataDir, FILE);
  let secrets: z.infer<typeof stored>;
  if (existsSync(file)) {
    const parsed = stored.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is damaged: delete it to generate new development secrets`);
    secrets = parsed.data;
  } else {
    secrets = { sessionSecret: randomBytes(32).toString('base64url'), dataKey: randomBytes(32).toString('base64') };
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return {
    ...config,
    sessionSecret: config.sessionSecretEphemeral ? secrets.sessionSecret : config.sessionSecret,
    sessionSecretEphemeral: false,
    dataKey: config.dataKey ?? Buffer.from(secrets.dataKey, 'base64'),
  };
}
