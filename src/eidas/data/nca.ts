/**
 * Known PSD2 national competent authority identifiers (NCAId, ETSI TS 119 495 §5.2.3).
 *
 * A versioned table: bump NCA_TABLE_VERSION when entries change. `source` says where each identifier comes
 * from:
 * - 'annex-d': ETSI TS 119 495 V1.2.1 (2018-11) Annex D, as reproduced by public implementations (the ETSI
 *   text itself was not available when this table was written; two independent copies agree).
 * - 'observed': identifiers that differ from Annex D but are used by QTSPs, NCAs or the EBA register in
 *   issued certificates (e.g. PSDES-BDE-… in BBVA's certificates). They are listed so that real certificates
 *   are not flagged; each carries a note on how sure we are.
 *
 * Membership only silences `psd2.nca-unknown` (a warning); syntax and country are checked separately.
 */
export const NCA_TABLE_VERSION = '2025-01 (TS 119 495 V1.2.1 Annex D + observed identifiers)';

export interface NcaEntry {
  id: string;
  name: string;
  country: string;
  source: 'annex-d' | 'observed';
  note?: string;
}

export const NCA_TABLE: readonly NcaEntry[] = [
  { id: 'AT-FMA', name: 'Austria Financial Market Authority', country: 'AT', source: 'annex-d' },
  { id: 'BE-NBB', name: 'National Bank of Belgium', country: 'BE', source: 'annex-d' },
  { id: 'BG-BNB', name: 'Bulgarian National Bank', country: 'BG', source: 'annex-d' },
  { id: 'HR-CNB', name: 'Croatian National Bank', country: 'HR', source: 'annex-d' },
  {
    id: 'HR-HNB',
    name: 'Croatian National Bank',
    country: 'HR',
    source: 'observed',
    note: 'Hrvatska narodna banka; seen in third-party NCA lists, not confirmed from Annex D.',
  },
  { id: 'CY-CBC', name: 'Central Bank of Cyprus', country: 'CY', source: 'annex-d' },
  { id: 'CZ-CNB', name: 'Czech National Bank', country: 'CZ', source: 'annex-d' },
  { id: 'DK-DFSA', name: 'Danish Financial Supervisory Authority', country: 'DK', source: 'annex-d' },
  { id: 'EE-FI', name: 'Estonia Financial Supervisory Authority', country: 'EE', source: 'annex-d' },
  { id: 'FI-FINFSA', name: 'Finnish Financial Supervisory Authority', country: 'FI', source: 'annex-d' },
  { id: 'FR-ACPR', name: 'Prudential Supervisory and Resolution Authority', country: 'FR', source: 'annex-d' },
  { id: 'DE-BAFIN', name: 'Federal Financial Supervisory Authority', country: 'DE', source: 'annex-d' },
  { id: 'GR-BOG', name: 'Bank of Greece', country: 'GR', source: 'annex-d' },
  { id: 'HU-CBH', name: 'Central Bank of Hungary', country: 'HU', source: 'annex-d' },
  { id: 'IS-FME', name: 'Financial Supervisory Authority', country: 'IS', source: 'annex-d' },
  { id: 'IE-CBI', name: 'Central Bank of Ireland', country: 'IE', source: 'annex-d' },
  { id: 'IT-BI', name: 'Bank of Italy', country: 'IT', source: 'annex-d' },
  { id: 'LI-FMA', name: 'Financial Market Authority Liechtenstein', country: 'LI', source: 'annex-d' },
  { id: 'LV-FCMC', name: 'Financial and Capital Markets Commission', country: 'LV', source: 'annex-d' },
  {
    id: 'LV-FKTK',
    name: 'Financial and Capital Markets Commission',
    country: 'LV',
    source: 'observed',
    note: 'Latvian acronym of the same authority (Finanšu un kapitāla tirgus komisija); not confirmed from a primary source.',
  },
  { id: 'LT-BL', name: 'Bank of Lithuania', country: 'LT', source: 'annex-d' },
  { id: 'LU-CSSF', name: 'Commission for the Supervision of Financial Sector', country: 'LU', source: 'annex-d' },
  { id: 'NO-FSA', name: 'The Financial Supervisory Authority of Norway', country: 'NO', source: 'annex-d' },
  { id: 'MT-MFSA', name: 'Malta Financial Services Authority', country: 'MT', source: 'annex-d' },
  { id: 'NL-DNB', name: 'The Netherlands Bank', country: 'NL', source: 'annex-d' },
  { id: 'PL-PFSA', name: 'Polish Financial Supervision Authority', country: 'PL', source: 'annex-d' },
  { id: 'PT-BP', name: 'Bank of Portugal', country: 'PT', source: 'annex-d' },
  { id: 'RO-NBR', name: 'National Bank of Romania', country: 'RO', source: 'annex-d' },
  { id: 'SK-NBS', name: 'National Bank of Slovakia', country: 'SK', source: 'annex-d' },
  { id: 'SI-BS', name: 'Bank of Slovenia', country: 'SI', source: 'annex-d' },
  { id: 'ES-BE', name: 'Bank of Spain', country: 'ES', source: 'annex-d' },
  {
    id: 'ES-BDE',
    name: 'Bank of Spain',
    country: 'ES',
    source: 'observed',
    note: 'Banco de España; used in issued QWACs (PSDES-BDE-…) and in zlint test data.',
  },
  { id: 'SE-FINA', name: 'Swedish Financial Supervision Authority', country: 'SE', source: 'annex-d' },
  {
    id: 'GB-FCA',
    name: 'Financial Conduct Authority',
    country: 'GB',
    source: 'annex-d',
    note: 'Historical: the UK left the EEA payments framework at the end of 2020.',
  },
];

const byId = new Map(NCA_TABLE.map((e) => [e.id, e]));

export function findNca(id: string): NcaEntry | undefined {
  return byId.get(id);
}
