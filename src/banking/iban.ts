/**
 * IBANs (ISO 13616): the two check digits make the whole number, rearranged and read with A=10 … Z=35,
 * equal 1 modulo 97. Used to make the demo accounts' and counterparties' numbers and to check any we are given.
 */

const SHAPE = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;

/** The IBAN's lengths per country for the countries the demo uses (others: the generic 15-34). */
const LENGTH: Record<string, number> = { DE: 22, NL: 18, FR: 27, BE: 16, AT: 20, ES: 24, IT: 27, IE: 22 };

function mod97(digitsAndLetters: string): number {
  let rest = 0;
  for (const ch of digitsAndLetters) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    // Letters are two digits: shift by 100, digits by 10.
    rest = (value >= 10 ? rest * 100 + value : rest * 10 + value) % 97;
  }
  return rest;
}

/** The IBAN for a country and its BBAN, with the check digits computed. */
export function makeIban(country: string, bban: string): string {
  const c = country.toUpperCase();
  const b = bban.toUpperCase();
  if (!/^[A-Z]{2}$/.test(c) || !/^[A-Z0-9]{11,30}$/.test(b)) throw new TypeError(`makeIban: bad country or BBAN`);
  const check = 98 - mod97(`${b}${c}00`);
  return `${c}${String(check).padStart(2, '0')}${b}`;
}

/** True for a well-formed IBAN (no spaces, upper case) whose check digits are right. */
export function isValidIban(iban: string): boolean {
  if (typeof iban !== 'string' || !SHAPE.test(iban)) return false;
  const expected = LENGTH[iban.slice(0, 2)];
  if (expected !== undefined && iban.length !== expected) return false;
  return mod97(`${iban.slice(4)}${iban.slice(0, 4)}`) === 1;
}
