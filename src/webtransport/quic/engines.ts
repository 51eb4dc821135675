/**
 * The choice of QUIC engine by name. `matrixai` (quiche through `@matrixai/quic`) always loads;
 * `native` (ngtcp2 + GnuTLS through Ferry's addon) only where `npm install` could build the addon.
 */
import type { QuicEngine } from './engine.js';
import { nativeEngine, nativeEngineStatus } from './native-engine.js';
import { quicheEngine } from './quiche-engine.js';

/** Engine names accepted by {@link quicEngine}; `auto` is native where its addon loads, else matrixai. */
export type QuicEngineName = 'auto' | 'native' | 'matrixai';

/** The engine called `name`; throws with the reason when `native` was asked for and is not available. */
export function quicEngine(name: QuicEngineName): QuicEngine {
  if (name === 'matrixai') return quicheEngine;
  if (name === 'auto') return nativeEngineStatus().available ? nativeEngine : quicheEngine;
  const status = nativeEngineStatus();
  if (!status.available) {
    throw new Error(
      `native QUIC engine unavailable: ${status.reason || 'addon not built'} (build it: apt-get install -y ` +
        'libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev && npm run build:quic; or --wt-engine matrixai)',
    );
  }
  return nativeEngine;
}

export { nativeEngineStatus };
