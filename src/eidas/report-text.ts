/** A certificate report in plain text for terminals: what was read, then each finding with its clause. */
import type { CertificateReport } from './types.js';

const MARK = { error: 'x', warning: '!', info: 'i' } as const;

export function formatReport(label: string, r: CertificateReport): string {
  const lines: string[] = [label];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(11)}${v}`);
  row('Verdict', `${r.verdict.toUpperCase()} (${r.type})`);
  if (r.subject) {
    row('Subject', r.subject);
    row('Issuer', r.issuer);
    row('Serial', r.serialNumber);
    row('Valid', `${r.notBefore} to ${r.notAfter}`);
    row('SHA-256', r.sha256);
  }
  const o = r.organizationIdentifier;
  if (o) {
    const parts = [`scheme ${o.scheme}`, `country ${o.country}`];
    if (o.nca) parts.push(`NCA ${o.nca}`);
    parts.push(`number ${o.authorisationNumber}`);
    row('Org id', `${o.raw} (${parts.join(', ')})`);
  }
  if (r.psd2) row('PSD2', `roles ${r.psd2.roles.join(', ') || '(none)'}; NCA ${r.psd2.ncaName} (${r.psd2.ncaId})`);
  if (r.qc) {
    const qc = [`compliance ${r.qc.compliance ? 'yes' : 'no'}`, `type ${r.qc.types.join('+') || '(none)'}`];
    if (r.qc.sscd) qc.push('QSCD');
    if (r.qc.pds.length) qc.push(`PDS ${r.qc.pds.map((p) => `${p.url} (${p.language})`).join(', ')}`);
    row('QC', qc.join('; '));
  }
  if (r.chain.length) {
    r.chain.forEach((c, i) => {
      row(i === 0 ? 'Chain' : '', `${i}. ${c.subject}${c.anchor ? `  [anchor: ${c.anchorSource ?? 'trusted'}]` : ''}`);
    });
  } else {
    row('Chain', '(no path to a trust anchor)');
  }
  row('Trust', r.trustProfile);
  const rv = r.revocation;
  row('Revocation', rv.status + (rv.source ? ` via ${rv.source}` : '') + (rv.revokedAt ? ` on ${rv.revokedAt}` : '') + (rv.reason ? ` (${rv.reason})` : ''));
  row('Checked at', r.validatedAt);
  if (r.findings.length === 0) {
    lines.push('  Findings   none');
  } else {
    lines.push('  Findings');
    for (const f of r.findings) {
      const where = f.certIndex ? ` [chain ${f.certIndex}]` : '';
      lines.push(`   ${MARK[f.severity]} ${f.severity.padEnd(8)}${f.code}${where}`);
      lines.push(`       ${f.message}`);
      lines.push(`       (${f.requirement})`);
    }
  }
  return lines.join('\n');
}
