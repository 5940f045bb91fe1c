/** Shared inputs for the questionnaire tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Answers, EvidenceState, QuestionnaireContext } from '../../src/questionnaire/service.js';

export const DATA_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../src/questionnaire/data/questionnaire-2026.1.json',
);

/** A fresh, mutable copy of the shipped data file's JSON. */
export function rawData(): Record<string, unknown> & { questions: Record<string, unknown>[]; policy: Record<string, unknown> } {
  return JSON.parse(readFileSync(DATA_FILE, 'utf8')) as ReturnType<typeof rawData>;
}

export const NOW = new Date('2026-05-15T10:00:00Z');

export const AIS: QuestionnaireContext = { track: 'partner', roles: ['AIS'] };
export const PIS: QuestionnaireContext = { track: 'partner', roles: ['PIS'] };
export const AIS_PIS: QuestionnaireContext = { track: 'partner', roles: ['AIS', 'PIS'] };
export const REGULATED_AIS: QuestionnaireContext = { track: 'regulated', roles: ['AIS'] };

/** The best answer to every question (gates open), as stored values. */
export const BEST: Answers = {
  'q.iso27001': 'covers_api',
  'q.soc2': 'clean',
  'q.hosts_data': true,
  'q.encryption': ['at_rest_aes256', 'tls12', 'field_level', 'key_separation'],
  'q.data_location': 'eea_uk',
  'q.retention_days': 0,
  'q.pentest': true,
  'q.pentest_date': '2026-01-10',
  'q.patch_critical_days': 3,
  'q.sdlc_controls': ['code_review', 'dependency_scanning', 'secrets_scanning'],
  'q.redirect_protection': ['exact_match', 'pkce', 'par'],
  'q.vdp_url': 'https://example.com/.well-known/security.txt',
  'q.mfa_staff': true,
  'q.access_review': 'quarterly',
  'q.env_separation': 'separate_no_real_data',
  'q.key_storage': 'hsm',
  'q.token_storage': 'encrypted_scoped',
  'q.uses_tsp': true,
  'q.tsp_separate_certs': true,
  'q.tsp_assurance': 'Acme Connect; we hold its ISAE 3402 Type II report dated 2026-02-01.',
  'q.log_retention_months': 24,
  'q.monitoring': 'always',
  'q.ir_plan': 'tested_12m',
  'q.incident_notify_hours': 12,
  'q.continuity': 'tested_12m',
  'q.fraud_controls': ['payee_check', 'velocity_limits', 'anomaly_detection'],
};

/** Every question that takes evidence, verified. */
export function allEvidence(state: EvidenceState): Record<string, EvidenceState> {
  const ids = rawData()
    .questions.filter((q) => q.evidence !== null)
    .map((q) => q.id as string);
  return Object.fromEntries(ids.map((id) => [id, state]));
}
