import { join } from 'node:path';
import { NativeAddonError } from '../errors/errors.js';
import { fromAddonError } from './from-addon-error.js';
import { loadCtpAddon } from './load-ctp-addon.js';
import { nativeBuildDir } from './native-build-dir.js';

const LIBRARIES = {
  current: 'thostmduserapi_ctp_simulator.so',
  '6.7.7': 'thostmduserapi_ctp_simulator_6_7_7.so',
  'unknown-version': 'thostmduserapi_ctp_simulator_unknown_version.so',
} as const;

/**
 * The CTP simulator (native/ctp-simulator): a market-data library with the
 * vendor's binary interface whose fronts run in-process on simulated
 * markets, addressed
 * `tcp://127.0.0.1:PORT?seed=1&rate=20&instruments=SHFE.rb2501,DCE.m2501&…`,
 * and can be steered to test reconnects and back-pressure.
 *
 * @example
 * ```ts
 * import { CtpMdApi } from './ctp-md-api.js';
 * const libraryPath = ctpSimulator.libraryPath();
 * const front = 'tcp://127.0.0.1:41001?rate=20';
 * const running = setInterval(() => {}, 60_000); // the session's threads do not keep Node running
 * const api = CtpMdApi.open({
 *   libraryPath,
 *   flowPath: 'ctp-flow/md1',
 *   onEvents(events) {
 *     for (const event of events) {
 *       console.log(event.kind);
 *       // A front is steered once a session has registered it.
 *       if (event.kind === 'front-connected') ctpSimulator.control(libraryPath, front, 'down');
 *       else if (event.kind === 'front-disconnected') {
 *         api.close();
 *         clearInterval(running);
 *       }
 *     }
 *   },
 * });
 * api.registerFront(front);
 * api.init();
 * // Logs: front-connected
 * // Logs: front-disconnected   (0x1001; it cannot reconnect until 'up')
 * ```
 */
export const ctpSimulator = {
  /**
   * The absolute path of a build of the CTP simulator in native/build/Release.
   * @param variant `current`: SDK 6.7.11 (4-argument factory); `6.7.7`: the 3-argument factory and the 204-byte login
   *   response; `unknown-version`: reports v9.1.0, which tickflow must refuse
   */
  libraryPath(variant: keyof typeof LIBRARIES = 'current'): string {
    return join(nativeBuildDir(), LIBRARIES[variant]);
  },

  /**
   * Steers a front of a loaded CTP simulator.
   * @param libraryPath the CTP simulator's library
   * @param address the front's address as registered
   * @param command `down` (disconnect 0x1001, refuse reconnects), `up`, `disconnect` (0x2001, reconnect after retry_ms),
   *   `stall`, `resume`, `rate=N`
   * @throws NativeAddonError when the library is not the CTP simulator or refuses the command
   */
  control(libraryPath: string, address: string, command: string): void {
    let result: number;
    try {
      result = loadCtpAddon().simulatorControl(libraryPath, address, command);
    } catch (error) {
      throw fromAddonError(error, { path: libraryPath });
    }
    if (result !== 0) {
      throw new NativeAddonError(`the CTP simulator's front ${address} refused the command "${command}" (result ${result})`, {
        context: { path: libraryPath },
      });
    }
  },
};
