/**
 * The ward's beds, shared out among bed worker processes (worker.ts): starting them, sending a
 * request to the worker that runs a bed, and gathering every bed's report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BedReport, BedSpec, FromWorker, ToWorker, WorkerStart } from './messages.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

interface Worker {
  readonly child: ChildProcess;
  readonly ids: Set<string>;
  call(m: ToWorker): Promise<FromWorker>;
  post(m: ToWorker): void;
}

function startWorker(start: WorkerStart): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (m: FromWorker) => void>();
  let next = 1;
  let failure: string | undefined;
  return new Promise((resolve, reject) => {
    child.on('message', (m: FromWorker) => {
      if (m.re !== undefined) {
        waiting.get(m.re)?.(m);
        waiting.delete(m.re);
      } else if (m.type === 'ready') {
        resolve(worker);
      } else if (m.type === 'error') {
        failure = m.error;
        reject(new Error(`a bed worker failed: ${m.error}`));
      }
    });
    child.once('exit', (code) => {
      const why = failure ?? `a bed worker exited (${code})`;
      for (const w of waiting.values()) w({ type: 'error', error: why });
      waiting.clear();
      reject(new Error(why));
    });
    const worker: Worker = {
      child,
      ids: new Set(start.beds.map((b) => b.id)),
      post: (m) => void child.send(m),
      call: (m) =>
        new Promise((res) => {
          const req = next++;
          waiting.set(req, res);
          child.send({ ...m, req });
        }),
    };
    child.send(start);
  });
}

export interface Ward {
  /** Sends `m` for these beds to the workers that run them, each with its own share of the ids. */
  toBeds(ids: readonly string[], m: (ids: string[]) => ToWorker): void;
  /** Asks the worker running this bed and waits for its answer. */
  call(id: string, m: ToWorker): Promise<FromWorker>;
  report(id: string): Promise<BedReport>;
  reports(latencies?: boolean): Promise<BedReport[]>;
  post(m: ToWorker): void;
  stop(): Promise<void>;
}

/** Starts `n` workers for the beds (dealt out in turn) and waits until every bed runs. */
export async function startWard(beds: readonly BedSpec[], n: number, start: Omit<WorkerStart, 'beds'>): Promise<Ward> {
  const workers: Worker[] = [];
  const stop = () =>
    Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.post({ type: 'stop' });
            setTimeout(() => w.child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    ).then(() => undefined);
  try {
    for (let i = 0; i < n; i++) workers.push(await startWorker({ ...start, beds: beds.filter((_, k) => k % n === i) }));
  } catch (e) {
    await stop();
    throw e;
  }
  const workerOf = (id: string) => workers.find((w) => w.ids.has(id))!;
  const reportsOf = async (w: Worker, latencies: boolean) => {
    const r = await w.call({ type: 'report', latencies });
    if (r.type !== 'report') throw new Error(r.type === 'error' ? r.error : 'no report');
    return r.beds;
  };
  return {
    toBeds(ids, m) {
      for (const w of workers) {
        const mine = ids.filter((id) => w.ids.has(id));
        if (mine.length > 0) w.post(m(mine));
      }
    },
    call: (id, m) => workerOf(id).call(m),
    report: async (id) => (await reportsOf(workerOf(id), false)).find((b) => b.id === id)!,
    async reports(latencies = false) {
      const all: BedReport[] = [];
      for (const w of workers) all.push(...(await reportsOf(w, latencies)));
      return all;
    },
    post: (m) => workers.forEach((w) => w.post(m)),
    stop,
  };
}
