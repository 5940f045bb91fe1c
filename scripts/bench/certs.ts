/**
 * npm run bench:certs — certificate validation throughput, with ratios against a floor measured in the
 * same run (machines here are noisy: the ratios are the figures that matter, not the absolute rates).
 *
 *  floor   node:crypto parsing + signature verification of the same path (leaf → issuing CA anchor)
 *  cold    full validateCertificate(): decode, profile checks, path building + RFC 5280 validation,
 *          qualification; revocation off (no network); no report cache
 *  cached  the same certificate again through the report cache
 *
 * Targets (from the issue): cold within 3x of the floor; cached at least 50x faster than cold.
 * Options: --seconds N (per measurement, default 1.5), --rounds N (default 3, median reported), --rsa|--ec.
 */
import { X509Certificate as NodeX509 } from 'node:crypto';
import { parseArgs } from 'node:util';
import { generateDevPki } from '../../src/devpki/generate.js';
import { parseTrustedList } from '../../src/eidas/trust/index.js';
import { createReportCache, validateCertificate } from '../../src/eidas/validate.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    rounds: { type: 'string', default: '3' },
    ec: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

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
const leafPem = partner.qwac.cert.toString('pem');
const issuer = pki.cas['qwac-ca'].cert;

const nodeLeafDer = Buffer.from(partner.qwac.cert.rawData);
const nodeIssuerDer = Buffer.from(issuer.rawData);

const floor = () => {
  const leaf = new NodeX509(nodeLeafDer);
  const ca = new NodeX509(nodeIssuerDer);
  if (!leaf.verify(ca.publicKey) || !leaf.checkIssued(ca)) throw new Error('floor: chain does not verify');
};
const cold = async () => {
  const r = await validateCertificate(leafPem, { trust, revocation: 'off', at, expect: 'qwac' });
  if (r.verdict !== 'pass') throw new Error(`cold: unexpected verdict ${JSON.stringify(r.findings)}`);
};
const reportCache = createReportCache({ maxEntries: 100, ttlMs: 3_600_000 });
const cached = async () => {
  const r = await validateCertificate(leafPem, { trust, revocation: 'off', at, expect: 'qwac', reportCache });
  if (r.verdict !== 'pass') throw new Error('cached: unexpected verdict');
};

const results = { floor: [] as number[], cold: [] as number[], cached: [] as number[] };
for (let r = 1; r <= rounds; r++) {
  process.stderr.write(`Round ${r}/${rounds}\n`);
  results.floor.push(await measure('floor', floor));
  results.cold.push(await measure('cold', cold));
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
    `bench:certs  node ${process.version}, ${keyAlgorithm} QWAC, path leaf → issuing CA (anchor), median of ${rounds} x ${seconds}s`,
    line('floor: node:crypto parse + verify', f, '1.00x'),
    line('cold: full validation', c, `${coldVsFloor.toFixed(2)}x the floor's cost (target <= 3x: ${coldVsFloor <= 3 ? 'met' : 'NOT met'})`),
    line('cached: same certificate again', k, `${cachedVsCold.toFixed(1)}x faster than cold (target >= 50x: ${cachedVsCold >= 50 ? 'met' : 'NOT met'})`),
    '',
  ].join('\n'),
);
