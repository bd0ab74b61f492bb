// The slice of @agoric/xsnap's API the harness uses (the package ships JSDoc, not declarations).
declare module '@agoric/xsnap' {
  interface MeterUsage {
    readonly compute: number | null;
    readonly allocate: number | null;
    readonly currentHeapCount: number | null;
  }
  interface XsnapWorker {
    evaluate(code: string): Promise<{ meterUsage: MeterUsage }>;
    issueStringCommand(message: string): Promise<{ reply: string; meterUsage: MeterUsage }>;
    close(): Promise<void>;
  }
  export function xsnap(options: {
    os: string;
    spawn: typeof import('node:child_process').spawn;
    fs: unknown;
    name?: string;
    stdout?: 'ignore' | 'inherit' | 'pipe';
    stderr?: 'ignore' | 'inherit' | 'pipe';
    meteringLimit?: number;
  }): Promise<XsnapWorker>;
}
