/**
 * Device profiles on Node: a shipped model by id (firmware/profiles), or a site's own profile from a
 * JSON file path (`vigil sign --profile ./our-pump.json`), checked by the same parser.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseProfile, type DeviceProfile } from '../../core/command/index.js';
import { knownModels, PROFILES } from '../../profiles/index.js';

export { knownModels } from '../../profiles/index.js';

export class ProfileLoadError extends Error {
  override readonly name = 'ProfileLoadError';
}

export function loadProfile(modelOrPath: string): DeviceProfile {
  const shipped = PROFILES.get(modelOrPath);
  if (shipped !== undefined) return shipped;
  if (/^[a-z0-9][a-z0-9.-]*$/.test(modelOrPath) || !existsSync(modelOrPath)) throw new ProfileLoadError(`no device profile "${modelOrPath}" (known models: ${knownModels().join(', ')}; or a path to a profile's JSON file)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(modelOrPath, 'utf8'));
  } catch (e) {
    throw new ProfileLoadError(`${modelOrPath} is not JSON: ${(e as Error).message}`);
  }
  const p = parseProfile(json);
  if (!p.ok) throw new ProfileLoadError(`${modelOrPath}: ${p.error.path}: ${p.error.message}`);
  return p.value;
}
