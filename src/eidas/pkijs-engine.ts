/**
 * pkijs keeps one global crypto engine; every module that uses pkijs calls `ensurePkijsEngine()` first so
 * the engine is node's WebCrypto whatever the import order.
 */
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

let done = false;

export function ensurePkijsEngine(): void {
  if (done) return;
  pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'] }));
  done = true;
}
