/**
 * The device profiles shipped with Vigil (one JSON file per model in this folder), parsed and checked
 * once: the one place the host, the Node gateways, the tools and the tests get them from. A profile
 * that does not parse stops the program at load, naming the field (firmware/core/command/profile.ts).
 * On the ESP32 the same files ship as data resources (manifest.json) and go through the same parser.
 */
import { parseProfile, type DeviceProfile } from '../core/command/index.js';
import monitor from './generic-monitor-v1.json' with { type: 'json' };
import pump from './generic-pump-v1.json' with { type: 'json' };
import ventilator from './generic-ventilator-v1.json' with { type: 'json' };
import alaris from './bd-alaris-8015.json' with { type: 'json' };
import connexSpot from './welch-allyn-connex-spot.json' with { type: 'json' };

function load(json: unknown, file: string): DeviceProfile {
  const p = parseProfile(json);
  if (!p.ok) throw new Error(`firmware/profiles/${file}: ${p.error.path}: ${p.error.message}`);
  return p.value;
}

export const PROFILES: ReadonlyMap<string, DeviceProfile> = new Map(
  [
    load(monitor, 'generic-monitor-v1.json'),
    load(pump, 'generic-pump-v1.json'),
    load(ventilator, 'generic-ventilator-v1.json'),
    // real products (their names as security advisories give them): a BD Alaris pump, a Welch Allyn spot monitor
    load(alaris, 'bd-alaris-8015.json'),
    load(connexSpot, 'welch-allyn-connex-spot.json'),
  ].map((p) => [p.model, p]),
);

export function knownModels(): string[] {
  return [...PROFILES.keys()].sort();
}

/** The default profile for a device kind, for simulated devices and demos. */
export function profileForKind(kind: DeviceProfile['kind']): DeviceProfile {
  for (const p of PROFILES.values()) if (p.kind === kind) return p;
  throw new Error(`no profile for device kind ${kind}`);
}
