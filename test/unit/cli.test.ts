import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/vigil.mjs', import.meta.url));
const vigil = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('the vigil command', () => {
  it('lists its subcommands with --help and exits 0', () => {
    const r = vigil('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: vigil <command>/);
    expect(r.stdout).toMatch(/^\s+start\s/m);
    expect(r.stdout).toMatch(/^\s+cbor\s/m);
  });

  it('names an unknown command and exits 2', () => {
    const r = vigil('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('prints CBOR in diagnostic notation through the strict decoder', () => {
    const ok = vigil('cbor', '--hex', 'a26161016162820203');
    expect([ok.status, ok.stdout.trim()]).toEqual([0, '{"a": 1, "b": [2, 3]}']);
    const bad = vigil('cbor', '--hex', 'a2616201616102');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unsorted-keys at offset 4/);
    const usage = vigil('cbor', '--hex', 'abc');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/even number of hex digits/);
  });
});

describe('vigil firmware build', () => {
  const root = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

  it('prints the mcconfig command with --dry-run (esp32 by default)', () => {
    const r = vigil('firmware', 'build', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--broker', 'mqtt://vigil-host.example:1883', '--dry-run');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mkdir -p \S+\/dist\/firmware\/esp32$/m);
    expect(r.stdout).toMatch(/^mcconfig -d -m -p esp32 -o \S+\/dist\/firmware\/esp32 \S+manifest\.json site=ward-1 gateway=gw-7 rootKey=d75a98/m);
  });

  it('builds for Moddable\'s Linux runtime with -t build, the serial device and flash file in the output folder', () => {
    const r = vigil('firmware', 'build', '--platform', 'lin', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--broker', 'mqtt://127.0.0.1:1883', '--out', '/tmp/fw', '--dry-run');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mcconfig -d -m -p lin -t build -o \/tmp\/fw \S+manifest\.json .* serialDevice=\/tmp\/fw\/serial flashFile=\/tmp\/fw\/vitals\.flash$/m);
  });

  it('builds the esp32 JavaScript half with --js-only: mcconfig without make, then make for the xsl link only', () => {
    const r = vigil('firmware', 'build', '--platform', 'esp32', '--js-only', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--broker', 'mqtt://h.example:1883', '--out', '/tmp/fw', '--dry-run');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[2]).toMatch(/^mcconfig -d -p esp32 -o \/tmp\/fw /);
    expect(lines.at(-1)).toMatch(/^make -C \/tmp\/fw\/tmp\/esp32\/debug\/\S+ -f makefile IDF_PATH=\/tmp\/fw\/no-esp-idf SDKCONFIG_H= \S+\/mc\.xs\.c \S+\/mc\.resources\.c$/);
  });

  it('refuses options of the other platform, an unknown platform and a broker the firmware cannot reach', () => {
    const base = ['firmware', 'build', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--dry-run'];
    const cases: Array<[string[], RegExp]> = [
      [['--platform', 'lin', '--broker', 'mqtt://h:1', '--ssid', 'x'], /--ssid is for --platform esp32/],
      [['--platform', 'lin', '--broker', 'mqtt://h:1', '--js-only'], /--js-only is for --platform esp32/],
      [['--platform', 'esp32', '--broker', 'mqtt://h:1', '--flash-file', 'f'], /--flash-file is for --platform lin/],
      [['--platform', 'esp8266', '--broker', 'mqtt://h:1'], /--platform is esp32 .* or lin/],
      [['--broker', 'mqtts://h:8883'], /--broker must be mqtt:\/\/host\[:port\]/],
    ];
    for (const [extra, message] of cases) {
      const r = vigil(...base, ...extra);
      expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(message)]);
    }
  });

  it('refuses a root key the gateway would refuse (all zero: small order) before building', () => {
    const r = vigil('firmware', 'build', '--site', 'ward-1', '--gateway', 'gw-7', '--root', '00'.repeat(32), '--broker', 'mqtt://h:1883', '--dry-run');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/small-order/);
  });

  it('firmware run says what to build first when there is no Linux build', () => {
    const r = vigil('firmware', 'run', '--out', mkdtempSync(join(tmpdir(), 'vigil-fw-none-')));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no Linux firmware build in .*: run "vigil firmware build --platform lin/);
  });

  it('builds the provisioned broker login into the gateway\'s config, never showing the secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-fw-'));
    writeFileSync(join(dir, 'gw-7.secret'), 'Zm9vYmFyYmF6cXV4cXV1eF9zZWNyZXQtdmFsdWU\n');
    const r = vigil('firmware', 'build', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--broker', 'mqtt://h.example:1883', '--secret-file', join(dir, 'gw-7.secret'), '--dry-run');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/mqttUser=gw-7 mqttPassword=…/);
    expect(r.stdout).not.toContain('Zm9vYmFy');
    const missing = vigil('firmware', 'build', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--broker', 'mqtt://h.example:1883', '--secret-file', join(dir, 'none'), '--dry-run');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/vigil provision gw-7/);
  });

  it('says exactly what is missing when the Moddable SDK and ESP-IDF are not set up', () => {
    const r = spawnSync(process.execPath, [bin, 'firmware', 'build', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--broker', 'mqtt://h.example:1883'], { encoding: 'utf8', env: { ...process.env, MODDABLE: '', IDF_PATH: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\$MODDABLE must point at a Moddable SDK/);
    expect(r.stderr).toMatch(/\$IDF_PATH must point at ESP-IDF/);
    expect(r.stderr).toMatch(/The commands it would run:\n  mkdir -p .*\n  mcconfig -d -m -p esp32/);
    const lin = spawnSync(process.execPath, [bin, 'firmware', 'build', '--platform', 'lin', '--site', 'ward-1', '--gateway', 'gw-7', '--root', root, '--broker', 'mqtt://h.example:1883'], { encoding: 'utf8', env: { ...process.env, MODDABLE: '', IDF_PATH: '' } });
    expect(lin.status).toBe(1);
    expect(lin.stderr).toMatch(/\$MODDABLE must point at a Moddable SDK/);
    expect(lin.stderr).not.toMatch(/IDF_PATH/);
  });

  it('refuses reserved or malformed gateway ids', () => {
    const r = vigil('firmware', 'build', '--site', 'ward-1', '--gateway', 'host', '--root', root, '--broker', 'mqtt://h.example:1883', '--dry-run');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/reserved/);
  });
});

describe('vigil start (npm start)', () => {
  it('runs the ward scenario: the host with its broker and API, 12 beds in a realistic mix whose gateways come online; prints the nursing station\'s address; stops cleanly with the ward\'s report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-start-'));
    const r = spawnSync(process.execPath, [bin, 'start', '--broker-port', '0', '--http-port', '0', '--data-dir', dir, '--duration', '12'], { encoding: 'utf8', timeout: 150_000 });
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/broker mqtt:\/\/127\.0\.0\.1:\d+, API http:\/\/127\.0\.0\.1:\d+ \(docs\/api\.md\), 12 gateways/);
    expect(r.stdout).toMatch(/ana +nurse +\S{12}/);
    expect(r.stdout).toMatch(/Nursing station: http:\/\/127\.0\.0\.1:\d+\/ /);
    // the report: six monitors, four pumps, two ventilators, every sample made at the host
    for (const [kind, n] of [['monitor', 6], ['pump', 4], ['ventilator', 2]] as const) expect(r.stdout.match(new RegExp(`^gw-bed-\\d+ +${kind} `, 'gm'))?.length, kind).toBe(n);
    expect(r.stdout).toMatch(/PASS +without a power cut, every sample a device made is at the host: 12 beds: made = stored/);
    expect(r.stdout).toMatch(/All invariants hold\./);
    // the second start finds the site and the users already there
    const again = spawnSync(process.execPath, [bin, 'start', '--broker-port', '0', '--http-port', '0', '--data-dir', dir, '--duration', '2', '--gateways', '2'], { encoding: 'utf8', timeout: 150_000 });
    expect(again.status, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/Demo logins: .*demo-logins\.json/);
  }, 300_000);
});
