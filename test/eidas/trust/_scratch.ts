import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import * as xmldom from '@xmldom/xmldom';
import * as xmldsig from 'xmldsigjs';
import { setNodeDependencies } from 'xml-core';

//setNodeDependencies({ DOMParser: xmldom.DOMParser, XMLSerializer: xmldom.XMLSerializer, DOMImplementation: xmldom.DOMImplementation });
xmldsig.Application.setEngine('NodeJS', { subtle: webcrypto.subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } as unknown as Crypto);
const dir = '/work/shared/fixtures/trusted-lists/';
for (const f of ['eu-lotl-sn248.xml','tl-cz-sn77.xml','tl-el-sn42.xml','tl-lu-sn37.xml','tl-be-sn43.xml','tl-fi-sn49-2024.xml','bad-eu-lotl-sn248-broken-sig.xml','bad-eu-lotl-sn248-not-parsable.xml']) {
  const t0 = Date.now();
  let text = readFileSync(dir + f, 'utf8').replace(/^\uFEFF/, '');
  try {
    const doc = new xmldom.DOMParser({ onError: (level: string, msg: string) => { if (level !== 'warning') throw new Error(msg); } }).parseFromString(text, 'application/xml');
    const sigs = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature');
    const signed = new xmldsig.SignedXml(doc as unknown as Document);
    signed.LoadXml(sigs[0] as unknown as Element);
    const ok = await signed.Verify();
    console.log(f, sigs.length, ok, Date.now() - t0, 'ms');
  } catch (e) { console.log(f, 'ERR', (e as Error).message.slice(0, 200), Date.now() - t0); }
}
