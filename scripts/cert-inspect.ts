/**
 * npm run --silent cert:inspect -- [--json] [--at ISO-DATE] [--trust FILE_OR_DIR]... \
 *   [--revocation off|soft-fail|hard-fail] [--expect qwac|qseal] [--password PW] FILE...
 *
 * Exit 0 when every certificate passes, 1 when any fails, 2 for usage errors or unreadable files.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { formatReport } from '../src/eidas/report-text.js';
import { createHttpFetcher, createRevocationCache } from '../src/eidas/revocation/index.js';
import { trustSpecFromConfig } from '../src/eidas/service.js';
import { loadTrustProfile, type TrustProfile } from '../src/eidas/trust/index.js';
import type { CertificateReport, ExpectedType, RevocationPolicy } from '../src/eidas/types.js';
import { validateCertificate } from '../src/eidas/validate.js';

const USAGE = `Usage: npm run --silent cert:inspect -- [options] FILE...

Validates eIDAS certificates (QWAC / QSealC) and prints a report per file.

Options:
  --json                 print JSON (one report for one file, an array for several)
  --at ISO-DATE          validation time (default: now)
  --trust FILE_OR_DIR    trust anchors: a trusted-list XML, a PEM file or a directory of PEM files
                         (repeatable; default: the configured trust profile)
  --revocation POLICY    off | soft-fail | hard-fail (default: REVOCATION_POLICY)
  --expect TYPE          qwac | qseal: the use the certificate is presented for
  --password PW          PKCS#12 password
  -h, --help             this text

Exit status: 0 all pass, 1 any fails, 2 usage error or unreadable file.`;

class UsageError extends Error {}

async function run(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('No certificate file given.');
  const at = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at: "${values.at}" is not an ISO date.`);
  const revocation = values.revocation as RevocationPolicy | undefined;
  if (revocation && !['off', 'soft-fail', 'hard-fail'].includes(revocation)) {
    throw new UsageError(`--revocation must be off, soft-fail or hard-fail, not "${revocation}".`);
  }
  const expect = values.expect as ExpectedType | undefined;
  if (expect && !['qwac', 'qseal'].includes(expect)) throw new UsageError(`--expect must be qwac or qseal, not "${expect}".`);

  const config = loadConfig();
  const trust = await loadTrust(values.trust ?? [], config, at);
  const inputs = positionals.map((file) => {
    try {
      return { file, data: new Uint8Array(readFileSync(file)) };
    } catch (err) {
      throw new UsageError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  });
  const fetcher = createHttpFetcher({
    timeoutMs: config.revocation.timeoutMs,
    allowPrivateNetworks: config.revocation.allowPrivateNetworks,
  });
  const revocationCache = createRevocationCache({ maxEntries: 1000 });
  const reports: CertificateReport[] = [];
  for (const { data } of inputs) {
    reports.push(
      await validateCertificate(data, {
        trust,
        revocation: revocation ?? config.revocation.policy,
        at,
        fetcher,
        revocationCache,
        ...(expect ? { expect } : {}),
        ...(values.password !== undefined ? { password: values.password } : {}),
      }),
    );
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
  } else {
    process.stdout.write(`${reports.map((r, i) => formatReport(inputs[i]!.file, r)).join('\n\n')}\n`);
  }
  return reports.every((r) => r.verdict === 'pass') ? 0 : 1;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      at: { type: 'string' },
      trust: { type: 'string', multiple: true },
      revocation: { type: 'string' },
      expect: { type: 'string' },
      password: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function loadTrust(paths: string[], config: ReturnType<typeof loadConfig>, at: Date): Promise<TrustProfile> {
  if (paths.length === 0) {
    try {
      return await loadTrustProfile(trustSpecFromConfig(config), { at });
    } catch (err) {
      throw new UsageError(
        `Cannot load the configured trust profile "${config.trust.profile}": ${(err as Error).message}` +
          (config.trust.profile === 'sandbox' ? ' (run "npm run pki:dev" to create the dev PKI, or pass --trust)' : ''),
      );
    }
  }
  const trustedLists: string[] = [];
  const pemFiles: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`--trust: cannot read ${p}`);
    }
    if (!isDir && p.toLowerCase().endsWith('.xml')) trustedLists.push(p);
    else pemFiles.push(p);
  }
  try {
    return await loadTrustProfile(
      { name: 'cli', trustedLists, pemFiles, requireSignedLists: config.trust.requireSignedLists },
      { at },
    );
  } catch (err) {
    throw new UsageError(`--trust: ${(err as Error).message}`);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`cert:inspect: ${err.message}\n\n${err instanceof UsageError ? USAGE : ''}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`cert:inspect: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 2;
  },
);
