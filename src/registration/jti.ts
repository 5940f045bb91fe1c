/**
 * The replay store for signed registration requests (RFC 7519 `jti`). The check and the record are one
 * atomic step: two concurrent requests with the same jti cannot both pass.
 */
export interface RegistrationJtiStore {
  /**
   * Records `jti` for `issuer` until `expiresAt` and returns true; returns false (records nothing) when the
   * same (issuer, jti) was recorded before and has not expired at `now`.
   */
  use(issuer: string, jti: string, expiresAt: Date, now: Date): Promise<boolean>;
}
