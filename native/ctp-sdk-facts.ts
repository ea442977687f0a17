type Sdk = readonly [number, number, number];
const compare = (a: Sdk, b: Sdk): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * The binary facts tickflow relies on for a CTP SDK version, or undefined for
 * a version it does not know. Known: the versions whose layouts
 * native/ctp-abi.json measured, where every struct is identical from 6.6.9 to
 * 6.7.11 except the login response. A version outside them may have moved a
 * field, so it is refused rather than guessed at.
 *
 * @example
 * ```ts
 * console.log(ctpSdkFacts([6, 7, 11]), ctpSdkFacts([6, 7, 8]));
 * // Logs: { factoryArity: 4, loginResponseSize: 296 } undefined
 * ```
 *
 * @param sdk `[major, minor, patch]`, as parseCtpVersion returns it
 * @returns the factory's argument count and sizeof(CThostFtdcRspUserLoginField)
 */
export function ctpSdkFacts(sdk: Sdk): { readonly factoryArity: 3 | 4; readonly loginResponseSize: 204 | 296 } | undefined {
  if (compare(sdk, [6, 6, 9]) >= 0 && compare(sdk, [6, 7, 7]) <= 0) return { factoryArity: 3, loginResponseSize: 204 };
  if (compare(sdk, [6, 7, 11]) === 0) return { factoryArity: 4, loginResponseSize: 296 };
  return undefined;
}
