/**
 * `npm run sbom`: CycloneDX 1.5 SBOMs for what Vigil ships, written to `sbom/` and validated with
 * the CycloneDX project's own validator (@cyclonedx/cyclonedx-library, strict JSON schema).
 *  - sbom/host.cdx.json: the host, its web app and tools, as npm knows them (`npm sbom`, runtime
 *    dependencies only: what `npm ci --omit dev` installs);
 *  - sbom/firmware.cdx.json: the gateway firmware, which npm does not know: the Moddable SDK and its XS
 *    engine, libsodium (Espressif's component on the ESP32), the firmware core bundle (sha-256 of
 *    the same esbuild bundle the XS suite runs), the ESP32 adapters and the device profiles shipped as data.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';

const root = fileURLToPath(new URL('..', import.meta.url));
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

export const MODDABLE_SDK_VERSION = '8.2.3';
/** The firmware's version as the ESP32 build reports it in its birth (firmware/platform/moddable/main.ts). */
const FIRMWARE_VERSION = /firmware: cfg\.firmware \?\? '([^']+)'/.exec(readFileSync(join(root, 'firmware/platform/moddable/main.ts'), 'utf8'))?.[1] ?? 'unknown';

/** The firmware core as one bundle, exactly as test/xs/gateway.xs.test.ts builds it for XS. */
export async function coreBundle(): Promise<Uint8Array> {
  const out = await build({ entryPoints: [join(root, 'firmware/core/gateway/index.ts')], bundle: true, write: false, format: 'esm', platform: 'neutral', target: 'es2022', minify: true, logLevel: 'silent' });
  return out.outputFiles[0]!.contents;
}

export function hostSbom(): Record<string, unknown> {
  const r = spawnSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev', '--sbom-type', 'application'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`npm sbom failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export async function firmwareSbom(): Promise<Record<string, unknown>> {
  const core = await coreBundle();
  const archive = [join(root, '../shared/moddable-sdk', `moddable-${MODDABLE_SDK_VERSION}.tar.xz`), `/work/shared/moddable-sdk/moddable-${MODDABLE_SDK_VERSION}.tar.xz`].find((p) => existsSync(p));
  const manifest = JSON.parse(readFileSync(join(root, 'firmware/platform/moddable/ed25519/manifest.json'), 'utf8')) as { platforms: { esp32: { dependency: Array<{ namespace: string; name: string; version: string }> } } };
  const sodium = manifest.platforms.esp32.dependency.find((d) => d.name === 'libsodium')!;
  const profiles = readdirSync(join(root, 'firmware/profiles')).filter((f) => f.endsWith('.json')).sort();
  const adapters = readdirSync(join(root, 'firmware/platform/moddable')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date().toISOString(),
      lifecycles: [{ phase: 'build' }],
      tools: { components: [{ type: 'application', name: 'vigil scripts/sbom.ts' }] },
      component: { 'bom-ref': 'vigil-gateway-firmware', type: 'firmware', name: 'vigil-gateway-firmware', version: FIRMWARE_VERSION, description: 'The Vigil bedside safety gateway firmware for the ESP32 (Moddable SDK, XS)' },
    },
    components: [
      {
        'bom-ref': 'moddable-sdk',
        type: 'framework',
        name: 'Moddable SDK',
        version: MODDABLE_SDK_VERSION,
        supplier: { name: 'Moddable Tech, Inc.' },
        purl: `pkg:github/Moddable-OpenSource/moddable@${MODDABLE_SDK_VERSION}`,
        externalReferences: [{ type: 'vcs', url: 'https://github.com/Moddable-OpenSource/moddable' }],
        ...(archive === undefined ? {} : { hashes: [{ alg: 'SHA-256', content: sha256(readFileSync(archive)) }] }),
        components: [{ 'bom-ref': 'xs', type: 'library', name: 'XS JavaScript engine', version: MODDABLE_SDK_VERSION, description: 'the ECMAScript engine the firmware runs in (part of the Moddable SDK)' }],
      },
      {
        'bom-ref': 'libsodium',
        type: 'library',
        name: 'libsodium',
        version: sodium.version,
        description: `Ed25519 signature verification (crypto_sign_verify_detached) for signed commands; on the ESP32 the Espressif component ${sodium.namespace}/${sodium.name} ${sodium.version}, on Linux the system's libsodium`,
        purl: `pkg:generic/${sodium.namespace}/${sodium.name}`,
        licenses: [{ license: { id: 'ISC' } }],
        externalReferences: [{ type: 'distribution', url: `https://components.espressif.com/components/${sodium.namespace}/${sodium.name}` }],
      },
      {
        'bom-ref': 'vigil-core',
        type: 'library',
        name: 'vigil-firmware-core',
        version: FIRMWARE_VERSION,
        description: `firmware/core as one ES2022 bundle (esbuild, minified; ${core.length} bytes): the gateway, command gate, vitals log, CBOR and protocol`,
        hashes: [{ alg: 'SHA-256', content: sha256(core) }],
      },
      ...adapters.map((f) => ({ 'bom-ref': `adapter-${f}`, type: 'file', name: `firmware/platform/moddable/${f}`, hashes: [{ alg: 'SHA-256', content: sha256(readFileSync(join(root, 'firmware/platform/moddable', f))) }] })),
      {
        'bom-ref': 'native-ed25519',
        type: 'file',
        name: 'firmware/platform/moddable/ed25519/ed25519.c',
        hashes: [{ alg: 'SHA-256', content: sha256(readFileSync(join(root, 'firmware/platform/moddable/ed25519/ed25519.c'))) }],
      },
      ...profiles.map((f) => ({ 'bom-ref': `profile-${f}`, type: 'data', name: `firmware/profiles/${f}`, hashes: [{ alg: 'SHA-256', content: sha256(readFileSync(join(root, 'firmware/profiles', f))) }] })),
    ],
    dependencies: [
      { ref: 'vigil-gateway-firmware', dependsOn: ['moddable-sdk', 'libsodium', 'vigil-core', 'native-ed25519'] },
      { ref: 'native-ed25519', dependsOn: ['libsodium'] },
      { ref: 'vigil-core', dependsOn: ['xs'] },
    ],
  };
}

/** The CycloneDX project's strict JSON-schema validation; null when valid, else what is wrong. */
export async function validateSbom(bom: unknown): Promise<unknown> {
  return new Validation.JsonStrictValidator(Spec.Version.v1dot5).validate(JSON.stringify(bom));
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? join(root, 'sbom');
  mkdirSync(dir, { recursive: true });
  for (const [name, bom] of [
    ['host.cdx.json', hostSbom()],
    ['firmware.cdx.json', await firmwareSbom()],
  ] as const) {
    const problems = await validateSbom(bom);
    if (problems !== null) throw new Error(`${name} is not valid CycloneDX 1.5: ${JSON.stringify(problems).slice(0, 2000)}`);
    writeFileSync(join(dir, name), `${JSON.stringify(bom, null, 2)}\n`);
    console.log(`${join(dir, name)}: CycloneDX 1.5, valid, ${(bom['components'] as unknown[]).length} components`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
