/**
 * The SBOMs (scripts/sbom.ts, README "SBOMs"): both valid CycloneDX 1.5 by the CycloneDX project's
 * own strict validator, the firmware's naming what npm does not know (the Moddable SDK, libsodium,
 * the core bundle by hash); and the validator really checks (a broken SBOM is refused).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { coreBundle, firmwareSbom, hostSbom, MODDABLE_SDK_VERSION, validateSbom } from '../../scripts/sbom.js';

type Component = { name: string; version?: string; type: string; hashes?: Array<{ alg: string; content: string }>; components?: Component[] };

describe('SBOMs', () => {
  it('the firmware SBOM is valid CycloneDX 1.5 and names the SDK, libsodium and the core bundle by its hash', async () => {
    const bom = await firmwareSbom();
    expect(await validateSbom(bom)).toBeNull();
    const components = bom['components'] as Component[];
    const byName = (n: string) => components.find((c) => c.name === n);
    expect(byName('Moddable SDK')).toMatchObject({ version: MODDABLE_SDK_VERSION, type: 'framework' });
    expect(byName('Moddable SDK')!.components!.map((c) => c.name)).toEqual(['XS JavaScript engine']);
    expect(byName('libsodium')!.version).toMatch(/1\.0\.\d+/);
    const core = createHash('sha256').update(await coreBundle()).digest('hex');
    expect(byName('vigil-firmware-core')!.hashes).toEqual([{ alg: 'SHA-256', content: core }]);
    expect(components.filter((c) => c.type === 'data').map((c) => c.name)).toContain('firmware/profiles/bd-alaris-8015.json');
  });

  it('the host SBOM (npm sbom, runtime dependencies) is valid CycloneDX 1.5 and lists what the host runs on', async () => {
    const bom = hostSbom();
    expect(await validateSbom(bom)).toBeNull();
    const names = (bom['components'] as Component[]).map((c) => c.name);
    for (const n of ['aedes', 'better-sqlite3', 'mqtt', 'preact', 'ws', '@secvisogram/csaf-validator-lib']) expect(names).toContain(n);
    expect(names).not.toContain('vitest'); // dev tools are not shipped
  }, 60_000);

  it('the validator refuses a broken SBOM (so "valid" above means something)', async () => {
    const bom = await firmwareSbom();
    expect(await validateSbom({ ...bom, bomFormat: 'SPDX' })).not.toBeNull();
    expect(await validateSbom({ ...bom, components: [{ type: 'library' }] })).not.toBeNull(); // a component without a name
    expect(await validateSbom({ ...bom, components: [{ type: 'library', name: 'x', hashes: [{ alg: 'SHA-256', content: 'not hex' }] }] })).not.toBeNull();
  });
});
