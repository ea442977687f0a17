/**
 * The SDK version in a CTP library's GetApiVersion() string, as
 * `[major, minor, patch]`, or undefined when the string does not start with
 * one. Vendor strings look like `v6.7.11_20250617 10:41:40.4470` or
 * `v6.7.2_P1_20230724 …`; the CTP simulator reports
 * `v6.7.11_tickflow_ctp_simulator`.
 *
 * @example
 * ```ts
 * console.log(parseCtpVersion('v6.7.2_P1_20230724 10:41:40.4470'));
 * // Logs: [ 6, 7, 2 ]
 * ```
 */
export function parseCtpVersion(version: string): readonly [number, number, number] | undefined {
  const match = /^\s*v?(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/i.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}
