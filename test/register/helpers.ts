/** Builders for register documents in the EBA JSON shape (synthetic values only). */

export type Props = Record<string, string | string[]>;

export function entity(
  code: string,
  type: string,
  props: Props,
  services?: Record<string, string | string[]>[],
  owner = code.includes('!') && !code.startsWith('PSD_') ? code.split('!')[0]! : 'DE_BAFIN',
): Record<string, unknown> {
  return {
    CA_OwnerID: owner,
    EntityCode: code,
    EntityType: type,
    Properties: Object.entries(props).map(([k, v]) => ({ [k]: v })),
    ...(services ? { Services: services } : {}),
    __EBA_EntityVersion: '20261101000000000',
  };
}

export function pi(ref: string, aut: string[], extra: Props = {}, services: Record<string, string | string[]>[] = [{ DE: ['PS_070', 'PS_080'] }]) {
  return entity(`DE_BAFIN!${ref}`, 'PSD_PI', { ENT_NAT_REF_COD: ref, ENT_NAM: `Test PI ${ref} GmbH`, ENT_COU_RES: 'DE', ENT_AUT: aut, ...extra }, services);
}

export function doc(entities: unknown[], ...extraBlocks: unknown[][]): string {
  return JSON.stringify([[{ Disclaimer: 'synthetic test register' }], entities, ...extraBlocks]);
}
