/**
 * The accounts area's public types: what the rest of the portal sees of a person who signs in: partners'
 * applicants (self-service), bank staff, and the bank's customers (created at the bank, never self-service).
 */
import type { StaffRole } from '../partners/types.js';

export type UserKind = 'applicant' | 'staff' | 'customer';
export type UserStatus = 'active' | 'disabled';

/** The signed-in user as routes and views see it (`req.user`, `res.locals.currentUser`). */
export interface SessionUser {
  id: string;
  kind: UserKind;
  /** Normalised (lower-case) e-mail. */
  email: string;
  displayName: string;
  /** Staff roles; always empty for applicants and customers. */
  roles: StaffRole[];
}

/** A staff member as the administration page lists them. */
export interface StaffListItem extends SessionUser {
  status: UserStatus;
  totpEnrolled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
}

/** The outcome of a correct password: what the second step must be. */
export interface PasswordCheck {
  user: SessionUser;
  /** False until the user has confirmed a first TOTP code (enrolment comes next, not a code). */
  totpEnrolled: boolean;
  /** A temporary password set by an admin: it must be replaced before the sign-in completes. */
  mustChangePassword: boolean;
}

/** What the enrolment page shows: the same secret as a QR code and as base32 text. */
export interface TotpEnrolment {
  otpauthUri: string;
  secretBase32: string;
  /** `data:image/png;base64,...` (the CSP allows `img-src data:`). */
  qrDataUrl: string;
}
