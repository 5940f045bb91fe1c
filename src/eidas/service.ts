/**
 * The eIDAS area's service: the configured trust profile, the caches and the HTTP fetcher, behind one
 * object the rest of the application uses. Other areas validate certificates only through it.
 */
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createHttpFetcher, createRevocationCache, type Fetcher } from './revocation/index.js';
import { loadTrustProfile, type TrustProfile, type TrustProfileSpec } from './trust/index.js';
import type { CertificateReport, ExpectedType } from './types.js';
import { createReportCache, validateCertificate } from './validate.js';

export interface EidasService {
  validate(
    input: Uint8Array | string,
    opts?: { expect?: ExpectedType; at?: Date; password?: string },
  ): Promise<CertificateReport>;
  trustSummary(): { name: string; anchors: number; sources: string[] };
  /**
   * Forgets cached reports and OCSP/CRL answers, so the next validation asks the responders again (an
   * operator who learnt of a revocation; tests standing in for the cache windows passing).
   */
  clearCaches(): void;
}

/** The trust-profile spec the configuration describes. */
export function trustSpecFromConfig(config: Config): TrustProfileSpec {
  const trustedLists = [...config.trust.trustedLists];
  if (config.trust.profile === 'sandbox') trustedLists.unshift(path.join(config.certsDir, 'trusted-list.xml'));
  return {
    name: config.trust.profile,
    trustedLists,
    pemFiles: config.trust.anchors,
    requireSignedLists: config.trust.requireSignedLists,
    ...(config.trust.lotl ? { lotl: config.trust.lotl } : {}),
    ...(config.trust.lotlSigners ? { lotlSigners: [config.trust.lotlSigners] } : {}),
  };
}

export async function createEidasService(deps: {
  config: Config;
  logger: Logger;
  trust?: TrustProfile;
  fetcher?: Fetcher;
}): Promise<EidasService> {
  const { config } = deps;
  const trust = deps.trust ?? (await loadTrustProfile(trustSpecFromConfig(config)));
  deps.logger.info(
    { trustProfile: trust.name, anchors: trust.anchors.length, sources: trust.sources },
    'trust profile loaded',
  );
  for (const warning of trust.warnings ?? []) deps.logger.warn({ trustProfile: trust.name, warning }, 'trust profile warning');
  const fetcher =
    deps.fetcher ??
    createHttpFetcher({
      timeoutMs: config.revocation.timeoutMs,
      allowPrivateNetworks: config.revocation.allowPrivateNetworks,
    });
  const revocationCache = createRevocationCache({ maxEntries: 10_000, maxAgeMs: config.revocation.cacheMaxMs });
  const reportCache = createReportCache({ maxEntries: 1000, ttlMs: 60_000 });
  return {
    validate(input, opts = {}) {
      return validateCertificate(input, {
        trust,
        revocation: config.revocation.policy,
        fetcher,
        revocationCache,
        reportCache,
        ...opts,
      });
    },
    clearCaches() {
      reportCache.clear();
      revocationCache.clear();
    },
    trustSummary() {
      return { name: trust.name, anchors: trust.anchors.length, sources: trust.sources };
    },
  };
}
