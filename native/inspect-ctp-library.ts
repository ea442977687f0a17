import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { NativeAddonError } from '../errors/errors.js';
import { ctpSdkFacts } from './ctp-sdk-facts.js';
import { fromAddonError } from './from-addon-error.js';
import { loadCtpAddon } from './load-ctp-addon.js';
import { parseCtpVersion } from './parse-ctp-version.js';

/** A CTP market-data library tickflow can drive: its SDK version and the binary facts that follow from it. */
export interface CtpLibraryInfo {
  /** The absolute path it was loaded from. */
  readonly path: string;
  /** GetApiVersion() as the library reports it, e.g. `v6.7.11_20250617 10:41:40.4470`. */
  readonly version: string;
  /** The SDK version parsed from it, e.g. `6.7.11`. */
  readonly sdk: string;
  /** 4 for 6.7.11 (`isProductionMode` added), 3 before. */
  readonly factoryArity: 3 | 4;
  /** sizeof(CThostFtdcRspUserLoginField) in this SDK: 204 up to 6.7.7, 296 in 6.7.11. */
  readonly loginResponseSize: 204 | 296;
}

const EXPECTED = 'expected a CTP market-data library of SDK 6.6.9–6.7.7 or 6.7.11';
const FACTORY_3 = '_ZN15CThostFtdcMdApi15CreateFtdcMdApiEPKcbb';
const FACTORY_4 = '_ZN15CThostFtdcMdApi15CreateFtdcMdApiEPKcbbb';

/**
 * Loads a CTP market-data library (the vendor's `thostmduserapi_se.so` or
 * the CTP simulator) and checks that tickflow knows its binary
 * interface, before any API object is created from it.
 *
 * Accepts SDK 6.6.9 through 6.7.7 and 6.7.11, whose layouts were measured,
 * and checks the factory matches the version (6.7.11 exports the 4-argument
 * one). The library stays loaded for the life of the process.
 *
 * @example
 * ```ts
 * // A broker's library, e.g. '/opt/ctp/thostmduserapi_se.so'; here the CTP simulator, which has SDK 6.7.11's interface.
 * const info = inspectCtpLibrary(ctpSimulator.libraryPath());
 * console.log(info.sdk, info.factoryArity, info.loginResponseSize);
 * // Logs: 6.7.11 4 296
 * ```
 *
 * @param path the library's path (relative paths are resolved against the working directory, not the loader's search path)
 * @returns what the library is
 * @throws NativeAddonError naming the path, what was found and what was expected (`context.code` keeps the addon's code)
 */
export function inspectCtpLibrary(path: string): CtpLibraryInfo {
  const absolute = resolve(path);
  let raw;
  try {
    raw = loadCtpAddon().loadLibrary(absolute);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message =
      code === 'CTP_LIBRARY_NOT_FOUND'
        ? existsSync(absolute)
          ? `${absolute} cannot be loaded as a shared library (${(error as Error).message}); ${EXPECTED}`
          : `${absolute}: no such file; ${EXPECTED} (thostmduserapi_se.so)`
        : code === 'CTP_NOT_A_CTP_LIBRARY'
          ? `${(error as Error).message}; ${EXPECTED}`
          : undefined;
    throw fromAddonError(error, { path: absolute }, message);
  }

  const sdk = parseCtpVersion(raw.version);
  const facts = sdk && ctpSdkFacts(sdk);
  if (!sdk || !facts) {
    throw new NativeAddonError(`${absolute} reports CTP API version "${raw.version}"; ${EXPECTED}`, {
      context: { path: absolute, code: 'CTP_UNKNOWN_VERSION' },
    });
  }
  const sdkText = sdk.join('.');
  if (raw.factoryArity !== facts.factoryArity) {
    throw new NativeAddonError(
      `${absolute} reports SDK ${sdkText} but exports the ${raw.factoryArity}-argument factory ` +
        `(${raw.factoryArity === 4 ? FACTORY_4 : FACTORY_3}); SDK ${sdkText} has the ${facts.factoryArity}-argument one`,
      { context: { path: absolute, code: 'CTP_FACTORY_MISMATCH' } },
    );
  }
  return { path: absolute, version: raw.version, sdk: sdkText, ...facts };
}
