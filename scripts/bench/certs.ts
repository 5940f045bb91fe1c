/**
 * npm run bench:certs — certificate validation throughput, with ratios against a floor measured in the
 * same run (machines here are noisy: the ratios are the figures that matter, not the absolute rates).
 *
 *  floor   node:crypto parsing + signature verification of the same certificates (leaf → issuing CA)
 *  cold    full validateCertificate(): decode, profile checks, path building + RFC 5280 validation,
 *          qualification; revocation off (no network); no report cache. Every cold validation gets a
 *          certificate the engine has never seen (the chain module caches parsed certificates and
 *          signature results across calls, so repeating one certificate would not be cold)
 *  cached  one certificate again and again through the report cache
 *
 * Targets (from the issue): cold within 3x of the floor; cached at least 50x faster than cold.
 * Options: --seconds N (per measurement, default 1.5), --rounds N (default 3, median reported), --rsa|--ec.
 */
import { X509Certificate as NodeX509 } from 'node:crypto';
import { parseArgs } from 'node:util';
import { issueCertificate } from '../../src/devpki/builder.js';
import { generateDevPki } from '../../src/devpki/generate.js';
import { parseTrustedList } from '../../src/eidas/trust/index.js';
import { createReportCache, validateCertificate } from '../../src/eidas/validate.js';
import { x509 } from '../../src/eidas/x509.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    rounds: { type: 'string', default: '3' },
    certs: { type: 'string', default: '400' },
    ec: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

/** Rate over `items` (each used once), after a warm-up on `warm` items. */
async function measureEach<T>(label: string, warm: T[], items: T[], fn: (item: T) => unknown): Promise<number> {
  for (const item of warm) await fn(item);
  const start = performance.now();
  for (const item of items) await fn(item);
  const rate = items.length / ((performance.now() - start) / 1000);
  process.stderr.write(`  ${label.padEnd(8)} ${rate.toFixed(0).padStart(8)} ops/s\n`);
  return rate;
}

async function measure(label: string, fn: () => unknown | Promise<unknown>): Promise<number> {
  // Warm-up: JIT and lazy initialisation out of the measured window.
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) await fn();
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) await fn();
    ops += 20;
  }
  const rate = ops / ((performance.now() - start) / 1000);
  process.stderr.write(`  ${label.padEnd(8)} ${rate.toFixed(0).padStart(8)} ops/s\n`);
  return rate;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const keyAlgorithm = values.ec ? 'EC-P256' : 'RSA-2048';
process.stderr.write(`Generating a dev PKI (${keyAlgorithm}) in memory...\n`);
const at = new Date();
const pki = await generateDevPki({ responderBaseUrl: 'http://127.0.0.1:9', now: at, keyAlgorithm });
const tl = parseTrustedList(pki.trustedListXml, { at });
const trust = { name: 'bench', anchors: tl.anchors, sources: ['bench'] };
const partner = pki.partners[0]!;

const qwacCa = pki.cas['qwac-ca'];
const perRound = Number(values.certs);
const warmCount = 50;
process.stderr.write(`Issuing ${rounds * 2 * (perRound + warmCount)} distinct QWACs (same profile, new serials)...\n`);
const template = partner.qwac.cert;
const spec = {
  subject: template.subject,
  issuer: qwacCa,
  keys: partner.qwac.keys,
  notBefore: template.notBefore,
  notAfter: template.notAfter,
  keyUsage: template.getExtension(x509.KeyUsagesExtension)!.usages,
  eku: template.getExtension(x509.ExtendedKeyUsageExtension)!.usages.map(String),
  san: { dns: [partner.dns] },
  policies: [...template.getExtension(x509.CertificatePolicyExtension)!.policies],
};
const qc = template.extensions.find((e) => e.type === '1.3.6.1.5.5.7.1.3')!;
async function freshPems(n: number): Promise<{ pem: string; der: Buffer }[]> {
  const out: { pem: string; der: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const { cert } = await issueCertificate({ ...spec, extraExtensions: [new x509.Extension(qc.type, qc.critical, qc.value)] });
    out.push({ pem: cert.toString('pem'), der: Buffer.from(cert.rawData) });
  }
  return out;
}
const issuerDer = Buffer.from(qwacCa.cert.rawData);

const floor = (c: { der: Buffer }) => {
  const leaf = new NodeX509(c.der);
  const ca = new NodeX509(issuerDer);
  if (!leaf.verify(ca.publicKey) || !leaf.checkIssued(ca)) throw new Error('floor: chain does not verify');
};
const cold = async (c: { pem: string }) => {
  const r = await validateCertificate(c.pem, { trust, revocation: 'off', at, expect: 'qwac' });
  if (r.verdict !== 'pass') throw new Error(`cold: unexpected verdict ${JSON.stringify(r.findings)}`);
};
const reportCache = createReportCache({ maxEntries: 100, ttlMs: 3_600_000 });
const leafPem = partner.qwac.cert.toString('pem');
const cached = async () => {
  const r = await validateCertificate(leafPem, { trust, revocation: 'off', at, expect: 'qwac', reportCache });
  if (r.verdict !== 'pass') throw new Error('cached: unexpected verdict');
};

const results = { floor: [] as number[], cold: [] as number[], cached: [] as number[] };
for (let r = 1; r <= rounds; r++) {
  process.stderr.write(`Round ${r}/${rounds}\n`);
  const [warmA, itemsA, warmB, itemsB] = [
    await freshPems(warmCount),
    await freshPems(perRound),
    await freshPems(warmCount),
    await freshPems(perRound),
  ];
  results.floor.push(await measureEach('floor', warmA!, itemsA!, floor));
  results.cold.push(await measureEach('cold', warmB!, itemsB!, cold));
  results.cached.push(await measure('cached', cached));
}
const f = median(results.floor);
const c = median(results.cold);
const k = median(results.cached);
const coldVsFloor = f / c;
const cachedVsCold = k / c;
const line = (name: string, rate: number, note: string) =>
  `${name.padEnd(34)} ${rate.toFixed(0).padStart(9)} /s   ${note}`;
process.stdout.write(
  [
    `bench:certs  node ${process.version}, ${keyAlgorithm} QWAC, path leaf → issuing CA (anchor), median of ${rounds} rounds (${perRound} fresh certificates each; cached: ${seconds}s)`,
    line('floor: node:crypto parse + verify', f, '1.00x'),
    line('cold: full validation', c, `${coldVsFloor.toFixed(2)}x the floor's cost (target <= 3x: ${coldVsFloor <= 3 ? 'met' : 'NOT met'})`),
    line('cached: same certificate again', k, `${cachedVsCold.toFixed(1)}x faster than cold (target >= 50x: ${cachedVsCold >= 50 ? 'met' : 'NOT met'})`),
    '',
  ].join('\n'),
);
