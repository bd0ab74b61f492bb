/** Loads device profiles for Node: by model id from firmware/profiles/, or from a JSON file path. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProfile, type DeviceProfile } from '../../core/command/index.js';

const PROFILE_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));

export class ProfileLoadError extends Error {
  override readonly name = 'ProfileLoadError';
}

export function knownModels(): string[] {
  return readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function loadProfile(modelOrPath: string): DeviceProfile {
  const path = /^[a-z0-9][a-z0-9.-]*$/.test(modelOrPath) ? `${PROFILE_DIR}${modelOrPath}.json` : modelOrPath;
  if (!existsSync(path)) throw new ProfileLoadError(`no device profile "${modelOrPath}" (known models: ${knownModels().join(', ')})`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ProfileLoadError(`${path} is not JSON: ${(e as Error).message}`);
  }
  const p = parseProfile(json);
  if (!p.ok) throw new ProfileLoadError(`${path}: ${p.error.path}: ${p.error.message}`);
  return p.value;
}
