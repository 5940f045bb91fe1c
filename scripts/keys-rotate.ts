/**
 * npm run keys:rotate — adds a new signing key for the authorization server (ID tokens, JWT access tokens)
 * in front of `DATA_DIR/oauth/keys.json`, retires the current one, and drops keys retired longer ago than
 * anything they signed can live. Restart the portal afterwards: it then signs with the new key and still
 * publishes the retired one at its jwks_uri, so tokens signed before the rotation stay verifiable.
 *
 * Exit status: 0 rotated, 2 configuration or usage error.
 */
import { loadConfig, ConfigError } from '../src/config.js';
import { rotateSigningKeys } from '../src/oauth/keys.js';

/** ID tokens live an hour; access tokens ACCESS_TOKEN_TTL; five minutes of margin for clock skew. */
const ID_TOKEN_TTL = 3600;

async function main(): Promise<number> {
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
  const retainSeconds = Math.max(ID_TOKEN_TTL, config.oauth.accessTokenTtl) + 300;
  const result = await rotateSigningKeys(config.dataDir, { retainSeconds });
  console.log(`new signing key: ${result.added}`);
  if (result.retired.length) console.log(`retired (still published for ${retainSeconds} s): ${result.retired.join(', ')}`);
  if (result.dropped.length) console.log(`no longer published: ${result.dropped.join(', ')}`);
  console.log(`published now: ${result.published.join(', ')}`);
  console.log('Restart the portal to sign with the new key.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
