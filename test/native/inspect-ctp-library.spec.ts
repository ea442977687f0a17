import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { ctpSdkFacts } from '../../native/ctp-sdk-facts.js';
import { inspectCtpLibrary } from '../../native/inspect-ctp-library.js';
import { loadCtpAddon } from '../../native/load-ctp-addon.js';
import { nativeBuildDir } from '../../native/native-build-dir.js';
import { parseCtpVersion } from '../../native/parse-ctp-version.js';
import { ctpSimulator } from '../../native/ctp-simulator.js';
import { NativeAddonError } from '../../errors/errors.js';

const EXPECTED = 'expected a CTP market-data library of SDK 6.6.9–6.7.7 or 6.7.11';
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const ADDON = join(nativeBuildDir(), 'tickflow_ctp.node');

/** What `run` threw, checked to be a NativeAddonError. */
function failure(run: () => unknown): NativeAddonError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NativeAddonError);
    return error as NativeAddonError;
  }
  throw new Error('expected a NativeAddonError, nothing was thrown');
}

describe('inspectCtpLibrary', () => {
  it('accepts the CTP simulator built as 6.7.11: the 4-argument factory and the 296-byte login response', () => {
    const path = ctpSimulator.libraryPath();
    expect(inspectCtpLibrary(path)).toEqual({
      path,
      version: 'v6.7.11_tickflow_ctp_simulator',
      sdk: '6.7.11',
      factoryArity: 4,
      loginResponseSize: 296,
    });
  });

  it('accepts the CTP simulator built as 6.7.7: the 3-argument factory and the 204-byte login response', () => {
    const path = ctpSimulator.libraryPath('6.7.7');
    expect(inspectCtpLibrary(path)).toEqual({
      path,
      version: 'v6.7.7_tickflow_ctp_simulator',
      sdk: '6.7.7',
      factoryArity: 3,
      loginResponseSize: 204,
    });
  });

  it('refuses a version whose layout was never measured, naming the path, the version and what was expected', () => {
    const path = ctpSimulator.libraryPath('unknown-version');
    const error = failure(() => inspectCtpLibrary(path));
    expect(error.message).toBe(`${path} reports CTP API version "v9.1.0_tickflow_ctp_simulator"; ${EXPECTED}`);
    expect(error.context).toEqual({ path, code: 'CTP_UNKNOWN_VERSION' });
  });

  it('says "no such file" for a missing library', () => {
    const path = join(tmpdir(), 'tickflow-no-such-dir', 'thostmduserapi_se.so');
    const error = failure(() => inspectCtpLibrary(path));
    expect(error.message).toBe(`${path}: no such file; ${EXPECTED} (thostmduserapi_se.so)`);
    expect(error.context).toEqual({ path, code: 'CTP_LIBRARY_NOT_FOUND' });
    expect((error.cause as Error).message).toContain('No such file or directory');
  });

  it("says a file that is not a shared library cannot be loaded, with the loader's reason", () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tickflow-ctp-inspect-')), 'thostmduserapi_se.so');
    writeFileSync(path, 'not an ELF file\n');
    const error = failure(() => inspectCtpLibrary(path));
    expect(error.message).toMatch(new RegExp(`^${path} cannot be loaded as a shared library \\(.*${path}.*\\); ${EXPECTED}$`));
    expect(error.context.code).toBe('CTP_LIBRARY_NOT_FOUND');
  });

  it.each([
    ['libc', LIBC],
    ['the addon itself', ADDON],
  ])('refuses a shared library without the CTP symbols (%s), naming the symbols it expected', (_, path) => {
    const error = failure(() => inspectCtpLibrary(path));
    expect(error.message).toBe(
      `${path} is not a CTP market-data library: it exports neither _ZN15CThostFtdcMdApi15CreateFtdcMdApiEPKcbbb nor ` +
        `_ZN15CThostFtdcMdApi15CreateFtdcMdApiEPKcbb nor _ZN15CThostFtdcMdApi13GetApiVersionEv; ${EXPECTED}`,
    );
    expect(error.context).toEqual({ path, code: 'CTP_NOT_A_CTP_LIBRARY' });
  });

  it('resolves a relative path against the working directory', () => {
    const relative = join('native', 'build', 'Release', 'thostmduserapi_ctp_simulator.so');
    expect(inspectCtpLibrary(relative).path).toBe(join(process.cwd(), relative));
  });
});

describe('loadLibrary (raw binding)', () => {
  it('reports the version and the factory arity, and returns the same answer for a cached path', () => {
    const addon = loadCtpAddon();
    const path = ctpSimulator.libraryPath('6.7.7');
    expect(addon.loadLibrary(path)).toEqual({ path, version: 'v6.7.7_tickflow_ctp_simulator', factoryArity: 3 });
    expect(addon.loadLibrary(path)).toEqual({ path, version: 'v6.7.7_tickflow_ctp_simulator', factoryArity: 3 });
    expect(addon.loadLibrary(ctpSimulator.libraryPath('unknown-version'))).toMatchObject({
      version: 'v9.1.0_tickflow_ctp_simulator',
      factoryArity: 4,
    });
  });

  it('throws Errors with a code: CTP_LIBRARY_NOT_FOUND with dlerror(), CTP_NOT_A_CTP_LIBRARY', () => {
    const addon = loadCtpAddon();
    expect(() => addon.loadLibrary('/nonexistent/lib.so')).toThrow(
      expect.objectContaining({
        code: 'CTP_LIBRARY_NOT_FOUND',
        message: expect.stringMatching(/^cannot load the CTP library \/nonexistent\/lib\.so: .*No such file/),
      }),
    );
    expect(() => addon.loadLibrary(LIBC)).toThrow(expect.objectContaining({ code: 'CTP_NOT_A_CTP_LIBRARY' }));
    expect(() => addon.loadLibrary(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('parseCtpVersion', () => {
  it.each([
    ['v6.7.11_20250617 10:41:40.4470', [6, 7, 11]],
    ['v6.7.2_P1_20230724 10:41:40.4470', [6, 7, 2]],
    ['v6.6.9_20220914 14:16:33.6370', [6, 6, 9]],
    ['v6.7.11_tickflow_ctp_simulator', [6, 7, 11]],
    ['6.7.7', [6, 7, 7]],
  ])('reads %s', (text, expected) => {
    expect(parseCtpVersion(text)).toEqual(expected);
  });

  it.each(['', 'tickflow', 'v6.7', 'v6.7.11.2_x', 'v6.7.112345'])('finds no version in %j', (text) => {
    expect(parseCtpVersion(text)).toBeUndefined();
  });
});

describe('ctpSdkFacts', () => {
  it.each([
    [[6, 6, 9], { factoryArity: 3, loginResponseSize: 204 }],
    [[6, 7, 0], { factoryArity: 3, loginResponseSize: 204 }],
    [[6, 7, 2], { factoryArity: 3, loginResponseSize: 204 }],
    [[6, 7, 7], { factoryArity: 3, loginResponseSize: 204 }],
    [[6, 7, 11], { factoryArity: 4, loginResponseSize: 296 }],
  ] as const)('knows SDK %j', (sdk, facts) => {
    expect(ctpSdkFacts(sdk)).toEqual(facts);
  });

  it.each([[[6, 6, 8]], [[6, 7, 8]], [[6, 7, 10]], [[6, 7, 12]], [[6, 8, 0]], [[9, 1, 0]], [[5, 9, 9]]] as const)(
    'refuses SDK %j',
    (sdk) => {
      expect(ctpSdkFacts(sdk)).toBeUndefined();
    },
  );
});
