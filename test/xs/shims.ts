/**
 * Globals that fast-check refers to when its module loads, which xsnap's XS does not define. Only
 * the test bundles get these; the firmware core never sees them (its tsconfig has no such types).
 */
const g = globalThis as Record<string, unknown>;
if (g['setTimeout'] === undefined) {
  g['setTimeout'] = () => {
    throw new Error('setTimeout is not available in the XS test worker');
  };
  g['clearTimeout'] = () => undefined;
}
