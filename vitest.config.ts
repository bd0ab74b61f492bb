import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The Moddable platform's plain parts (serial-writer.ts, nor-file.ts) import the core by the module
// name the manifest gives it; tests resolve that name to the same files.
const alias = { 'vigil/core': fileURLToPath(new URL('./firmware/core', import.meta.url)) };

// Three projects:
//  - unit: everything that needs only npm packages (Node, and XS built by @agoric/xsnap). `npm test`.
//  - sim: the ward simulator's scenarios, whole wards for minutes (npm packages only). `npm test`.
//  - services: suites that need a Debian package or a running service (Chromium, Mosquitto).
//    `npm run test:services`, run by .ci/run; they fail with an install hint when it is missing.
export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/xs/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: {
          // whole-ward scenarios of `vigil sim` (host, broker and gateways in their own processes):
          // minutes each, two files side by side
          name: 'sim',
          include: ['test/sim/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'services',
          include: ['test/services/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
