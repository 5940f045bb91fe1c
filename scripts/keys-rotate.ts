/**
 * npm run keys:rotate [-- oauth|directory|webhook|evidence] — adds a new signing key in front of one of the
 * portal's key files under DATA_DIR. Restart the portal afterwards: it then signs with the new key and still
 * publishes the old ones, so what they signed stays verifiable.
 *
 *   oauth (default)  DATA_DIR/oauth/keys.json: ID tokens and JWT access tokens. The current key is retired and
 *                    keys retired longer ago than anything they signed can live are dropped.
 *   directory        DATA_DIR/directory/keys.json: software statements (every key is kept: partners hold
 *                    statements for up to SSA_MAX_AGE_DAYS).
 *   webhook          DATA_DIR/notifications/webhook-keys.json: webhook signatures (kept: retries and receivers'
 *                    caches).
 *   evidence         DATA_DIR/evidence/keys.json: evidence packs (kept: packs handed to auditors must verify).
 *
 * A key file that is damaged, or a list already at its limit (20 keys), is an error that names the file; nothing
 * is written then. Exit status: 0 rotated, 2 configuration, usage or key-file error.
 */
import { loadConfig, ConfigError } from '../src/config.js';
import { rotateEvidenceKeys } from '../src/evidence/keys.js';
import { rotateWebhookKeys } from '../src/notifications/keys.js';
import { rotateSigningKeys } from '../src/oauth/keys.js';
import { rotateDirectoryKeys } from '../src/registration/directory.js';

/** ID tokens live an hour; access tokens ACCESS_TOKEN_TTL; five minutes of margin for clock skew. */
const ID_TOKEN_TTL = 3600;

const TARGETS = ['oauth', 'directory', 'webhook', 'evidence'] as const;
type Target = (typeof TARGETS)[number];

const USES: Record<Exclude<Target, 'oauth'>, string> = {
  directory: 'software statements',
  webhook: 'webhook signatures',
  evidence: 'evidence packs',
};

async function main(argv: string[]): Promise<number> {
  const [arg, ...rest] = argv;
  const target = (arg ?? 'oauth') as Target;
  if (rest.length > 0 || !TARGETS.includes(target)) {
    console.error(`usage: npm run keys:rotate [-- ${TARGETS.join('|')}]  (default oauth)`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  if (target === 'oauth') {
    const retainSeconds = Math.max(ID_TOKEN_TTL, config.oauth.accessTokenTtl) + 300;
    const result = await rotateSigningKeys(config.dataDir, { retainSeconds });
    console.log(`new signing key: ${result.added}`);
    if (result.retired.length) console.log(`retired (still published for ${retainSeconds} s): ${result.retired.join(', ')}`);
    if (result.dropped.length) console.log(`no longer published: ${result.dropped.join(', ')}`);
    console.log(`published now: ${result.published.join(', ')}`);
  } else {
    const rotate = { directory: rotateDirectoryKeys, webhook: rotateWebhookKeys, evidence: rotateEvidenceKeys }[target];
    const result = await rotate({ dataDir: config.dataDir });
    console.log(`new ${target} key (${USES[target]}): ${result.added}`);
    console.log(`published now, newest first (the older ones keep verifying what they signed): ${result.published.join(', ')}`);
    console.log(`file: ${result.file}`);
  }
  console.log('Restart the portal to sign with the new key.');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
