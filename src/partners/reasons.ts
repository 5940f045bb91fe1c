/**
 * Reason codes for rejections and suspensions. Decisions store the code (stable) and the officer's text;
 * the catalogue text is what the applicant reads next to it. Add codes, never rename or reuse them.
 */
export interface Reason {
  code: string;
  text: string;
}

export const REJECTION_REASONS: readonly Reason[] = [
  { code: 'REGISTER_NOT_AUTHORISED', text: 'The NCA register does not show an authorisation for the services requested.' },
  { code: 'CERTIFICATE_INVALID', text: 'The eIDAS certificates do not pass validation or do not match the application.' },
  { code: 'SECURITY_INSUFFICIENT', text: 'The security controls described do not meet the bank’s minimum requirements.' },
  { code: 'KNOCK_OUT', text: 'A knock-out answer in the security questionnaire cannot be accepted.' },
  { code: 'INCOMPLETE', text: 'The application is incomplete and the missing information was not provided.' },
  { code: 'FRAUD_RISK', text: 'The application presents a fraud risk the bank cannot accept.' },
  { code: 'OTHER', text: 'Another reason, explained in the decision text.' },
];

export const SUSPENSION_REASONS: readonly Reason[] = [
  { code: 'FRAUD_GROUNDS', text: 'Objectively justified and evidenced grounds of unauthorised or fraudulent access (PSD2 Art. 68(5)).' },
  { code: 'REGISTER_WITHDRAWN', text: 'The authorisation was withdrawn from the NCA register.' },
  { code: 'CERTIFICATE_REVOKED', text: 'The partner’s eIDAS certificate was revoked or has expired.' },
  { code: 'CERTIFICATE_EXPIRED', text: 'The partner’s approved eIDAS certificate has expired.' },
  { code: 'CONTRACT_ENDED', text: 'The commercial agreement with the partner ended.' },
  { code: 'OTHER', text: 'Another reason, explained in the decision text.' },
];

export function reasonText(catalogue: readonly Reason[], code: string | null): string | null {
  if (code === null) return null;
  return catalogue.find((r) => r.code === code)?.text ?? null;
}
