/**
 * Property and model-based tests of the command gate, run with the same seed in Node and in XS.
 *  - tampering: flipping any bit of a valid command, or cutting it short, gets a rejection;
 *  - the counter/nonce model: over random sequences of fresh commands, replays, reboots and power
 *    cuts (before the persist, or between the persist and the forward), no command is ever forwarded
 *    twice and counters forwarded only ever rise.
 */
import fc from 'fast-check';
import { createCommandGate, signCommand, type CommandGate, type GateState } from '../../firmware/core/command/index.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { claims, GATEWAY, keys, NOW, profile, SERIAL, trustList } from './command-cases.js';
import type { PropertyReport } from './cbor-properties.js';

const CURRENT = new Map([['rate', 50]]);

function newGate(state: GateState, trust = trustList()): CommandGate {
  return createCommandGate({ gateway: GATEWAY, serial: SERIAL, profile: profile(), verify: ed25519Verify }, state, trust);
}

function report<T>(name: string, d: fc.RunDetails<T>): PropertyReport {
  return { name, numRuns: d.numRuns, failed: d.failed, counterexample: d.counterexample === null ? null : fc.stringify(d.counterexample), error: d.errorInstance === null ? null : String(d.errorInstance) };
}

/** The gateway as the adapter runs it: persisted storage, a gate in RAM, effects carried out in order. */
class Gateway {
  persisted: GateState;
  gate: CommandGate;
  forwarded: number[] = [];
  private boots = 0;

  constructor(private readonly trust: ReturnType<typeof trustList>) {
    this.persisted = { lastCounter: 0, nonce: this.freshNonce() };
    this.gate = newGate(this.persisted, trust);
  }

  freshNonce(): Uint8Array {
    this.boots++;
    return Uint8Array.from({ length: 16 }, (_, i) => (this.boots * 31 + i * 7) & 0xff);
  }

  /** Reboot: RAM is lost; the counter comes back from storage; the nonce is new (rotated at boot). */
  reboot(): void {
    this.persisted = { lastCounter: this.persisted.lastCounter, nonce: this.freshNonce() };
    this.gate = newGate(this.persisted, this.trust);
  }

  /** Submits and carries out the effects in order, with the power failing at `cut` if given. */
  submit(bytes: Uint8Array, cut: 'none' | 'before-persist' | 'before-forward'): boolean {
    const d = this.gate.submit({ bytes, nowUnix: NOW, nowMs: 0, current: CURRENT, freshNonce: this.freshNonce() });
    for (const e of d.effects) {
      if (e.type === 'persist-state') {
        if (cut === 'before-persist') return this.powerCut();
        this.persisted = e.state;
      } else if (e.type === 'forward') {
        if (cut === 'before-forward') return this.powerCut();
        this.forwarded.push(e.counter);
      }
    }
    return d.accepted;
  }

  private powerCut(): false {
    this.reboot();
    return false;
  }
}

interface Model {
  nextCounter: number;
  signed: Uint8Array[];
}

type Real = Gateway;

class SendFresh implements fc.Command<Model, Real> {
  constructor(readonly cut: 'none' | 'before-persist' | 'before-forward') {}
  check = () => true;
  run(m: Model, g: Real): void {
    const bytes = signCommand(claims({ counter: m.nextCounter, nonce: g.gate.state.nonce, set: { rate: [50 + (m.nextCounter % 10), 'mL/h'] } }), keys.nurse);
    m.nextCounter++;
    m.signed.push(bytes);
    const accepted = g.submit(bytes, this.cut);
    if (this.cut === 'none' && !accepted) throw new Error('a fresh, valid command was refused');
    invariants(g);
  }
  toString = () => `SendFresh(${this.cut})`;
}

class Replay implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.signed.length > 0;
  run(m: Model, g: Real): void {
    const before = g.forwarded.length;
    const accepted = g.submit(m.signed[this.pick % m.signed.length]!, 'none');
    if (accepted || g.forwarded.length !== before) throw new Error('a replayed command was accepted');
    invariants(g);
  }
  toString = () => `Replay(${this.pick})`;
}

class Reboot implements fc.Command<Model, Real> {
  check = () => true;
  run(_m: Model, g: Real): void {
    g.reboot();
  }
  toString = () => 'Reboot';
}

function invariants(g: Real): void {
  for (let i = 1; i < g.forwarded.length; i++) {
    if (g.forwarded[i]! <= g.forwarded[i - 1]!) throw new Error(`counter ${g.forwarded[i]} forwarded after ${g.forwarded[i - 1]}`);
  }
  const last = g.forwarded[g.forwarded.length - 1];
  if (last !== undefined && last > g.persisted.lastCounter) throw new Error('forwarded a counter that was not persisted first');
}

export function runCommandProperties(seed: number, numRuns: number): PropertyReport[] {
  const trust = trustList();
  const valid = signCommand(claims({ nonce: new Uint8Array(16).fill(9), counter: 1 }), keys.nurse);
  const accepts = (bytes: Uint8Array) => newGate({ lastCounter: 0, nonce: new Uint8Array(16).fill(9) }, trust).submit({ bytes, nowUnix: NOW, nowMs: 0, current: CURRENT, freshNonce: new Uint8Array(16) }).accepted;
  if (!accepts(valid)) throw new Error('the base command must be accepted');
  const commands = [
    fc.constantFrom('none' as const, 'none' as const, 'before-persist' as const, 'before-forward' as const).map((cut) => new SendFresh(cut)),
    fc.nat().map((n) => new Replay(n)),
    fc.constant(new Reboot()),
  ];
  return [
    report('flipping any bit of a valid command gets a rejection', fc.check(fc.property(fc.nat({ max: valid.length * 8 - 1 }), (bit) => {
      const b = valid.slice();
      b[bit >> 3] = b[bit >> 3]! ^ (1 << (bit & 7));
      return !accepts(b);
    }), { seed, numRuns })),
    report('cutting a valid command short gets a rejection', fc.check(fc.property(fc.nat({ max: valid.length - 1 }), (n) => !accepts(valid.subarray(0, n))), { seed, numRuns })),
    report('no replay is ever accepted, across reboots and power cuts', fc.check(fc.property(fc.commands(commands, { maxCommands: 25 }), (cmds) => {
      const g = new Gateway(trust);
      fc.modelRun(() => ({ model: { nextCounter: 1, signed: [] }, real: g }), cmds);
    }), { seed, numRuns: Math.max(1, Math.floor(numRuns / 4)) })),
  ];
}
