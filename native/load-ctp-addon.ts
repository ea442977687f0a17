import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NativeAddonError } from '../errors/errors.js';
import type { CtpAddonBinding } from './ctp-addon-binding.js';
import { nativeBuildDir } from './native-build-dir.js';

let addon: CtpAddonBinding | undefined;

/**
 * The CTP addon (`native/build/Release/tickflow_ctp.node`), loaded on first
 * use and cached. Only code that talks to CTP calls this, so commands that do
 * not need the addon never load it.
 *
 * @returns the raw binding
 * @throws NativeAddonError when the addon is not built or cannot be loaded
 */
export function loadCtpAddon(): CtpAddonBinding {
  if (addon !== undefined) return addon;
  const path = join(nativeBuildDir(), 'tickflow_ctp.node');
  if (!existsSync(path)) throw new NativeAddonError(`the CTP addon is not built at ${path}; run \`npm run build\``, { context: { path } });
  try {
    addon = createRequire(import.meta.url)(path) as CtpAddonBinding;
  } catch (cause) {
    throw new NativeAddonError(
      `the CTP addon at ${path} cannot be loaded (${(cause as Error).message}); rebuild it with \`npm run build\``,
      { cause, context: { path } },
    );
  }
  return addon;
}
