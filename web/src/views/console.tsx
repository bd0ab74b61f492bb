/**
 * The command console, for clinicians the trust list allows: pick a bed and a setting, see its limits
 * and present value, see old → new before sending, sign with one's own passphrase, and follow the
 * result live. A value past a soft limit waits for a second clinician's approval, asked for here too.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Link, navigate, useCommands, useGatewayChanges, useProfiles, useSession, useWard } from '../session.js';
import { byBed, clockTime, fmt, KIND_NAMES, STATUS_TEXT, unitText } from '../format.js';
import type { Command, Gateway, NumericSetting, Profile } from '../types.js';
import { changeText, CommandHistory, StatusText } from './commands.js';

const CLINICAL = ['nurse', 'charge-nurse', 'physician', 'pharmacist'];
const FINAL = ['applied', 'rejected', 'failed', 'timed-out', 'withdrawn'];
const STEPS = ['pending', 'accepted', 'applied'];

interface Check {
  readonly level: 'ok' | 'cosign' | 'blocked';
  readonly text: string;
}

function check(s: NumericSetting, current: number | undefined, v: number): Check {
  if (!Number.isFinite(v)) return { level: 'blocked', text: 'Enter a number.' };
  if (v < s.hard[0] || v > s.hard[1]) return { level: 'blocked', text: `Outside the hard limits ${s.hard[0]}–${s.hard[1]} ${unitText(s.unit)}: never allowed.` };
  if (current !== undefined && Math.abs(v - current) > s.maxStep) return { level: 'blocked', text: `A change of more than ${s.maxStep} ${unitText(s.unit)} in one step is refused by the gateway: change it in smaller steps.` };
  if (v < s.soft[0] || v > s.soft[1]) return { level: 'cosign', text: `Past the soft limits ${s.soft[0]}–${s.soft[1]} ${unitText(s.unit)}: a second clinician must approve before it is sent.` };
  return { level: 'ok', text: `Within the soft limits ${s.soft[0]}–${s.soft[1]} ${unitText(s.unit)}.` };
}

/** A command's progress: each step done, current or to come; a refusal in plain words. */
export function Progress(props: { c: Command }) {
  const { c } = props;
  const reached = STEPS.indexOf(c.status);
  return (
    <div class="progress" aria-live="polite" data-command-id={c.id}>
      <ol class="steps">
        {c.status === 'awaiting-cosign' ? <li class="current">Waiting for a second approver</li> : null}
        {STEPS.map((s, i) => (
          <li class={reached >= i ? 'done' : FINAL.includes(c.status) ? 'skipped' : i === reached + 1 ? 'current' : ''}>
            {reached >= i ? '✓ ' : ''}
            {STATUS_TEXT[s]}
          </li>
        ))}
      </ol>
      <p class="result">
        <StatusText c={c} />
      </p>
    </div>
  );
}

function Approvals(props: { commands: readonly Command[]; profiles: readonly Profile[] }) {
  const { user } = useSession();
  const ward = useWard();
  const waiting = props.commands.filter((c) => c.status === 'awaiting-cosign');
  const [pass, setPass] = useState<Record<number, string>>({});
  const [error, setError] = useState<Record<number, string>>({});
  if (waiting.length === 0) return null;
  const act = async (c: Command, what: 'cosign' | 'withdraw') => {
    setError({ ...error, [c.id]: '' });
    try {
      await api(`/api/commands/${c.id}/${what}`, { method: 'POST', body: what === 'cosign' ? { passphrase: pass[c.id] ?? '' } : undefined });
    } catch (e) {
      setError({ ...error, [c.id]: (e as Error).message });
    }
  };
  return (
    <section aria-labelledby="approvals-title" class="approvals">
      <h2 id="approvals-title">Waiting for a second approver</h2>
      <ul>
        {waiting.map((c) => {
          const g = ward.gateways.get(c.gateway);
          const profile = props.profiles.find((p) => p.model === g?.device?.model);
          const mine = c.requested_by === user.username;
          return (
            <li data-command-id={c.id}>
              <p>
                <strong>{g?.bed ?? c.gateway}</strong>: {changeText(c, profile)} — asked by {c.requested_by} at {clockTime(c.created, true)}
              </p>
              {mine ? (
                <p>
                  You asked for this change: another clinician must approve it.{' '}
                  <button type="button" class="secondary" onClick={() => void act(c, 'withdraw')}>
                    Withdraw
                  </button>
                </p>
              ) : CLINICAL.includes(user.role) ? (
                <form
                  class="inline"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void act(c, 'cosign');
                  }}
                >
                  <label>
                    Your signing passphrase
                    <input type="password" autocomplete="off" value={pass[c.id] ?? ''} onInput={(e) => setPass({ ...pass, [c.id]: e.currentTarget.value })} />
                  </label>
                  <button type="submit">Approve and send</button>
                </form>
              ) : null}
              {error[c.id] ? (
                <p class="error" role="alert">
                  {error[c.id]}
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Composer(props: { g: Gateway; profile: Profile; onSent: (c: Command) => void }) {
  const { g, profile } = props;
  const names = Object.keys(profile.settings);
  const [name, setName] = useState(names[0] ?? '');
  const [value, setValue] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [orderId, setOrderId] = useState(() => `ORD-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${Math.floor(Math.random() * 1e6)}`);
  const [reviewing, setReviewing] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const s = profile.settings[name];
  const current = g.settings?.[name];
  const numeric = s?.type === 'number';
  const v = numeric ? Number(value) : value;
  const c: Check =
    s === undefined
      ? { level: 'blocked', text: 'Pick a setting.' }
      : s.type === 'number'
        ? value.trim() === ''
          ? { level: 'blocked', text: 'Enter the new value.' }
          : check(s, typeof current === 'number' ? current : undefined, v as number)
        : s.values.includes(value)
          ? { level: 'ok', text: 'One of the device’s modes.' }
          : { level: 'blocked', text: 'Pick one of the device’s modes.' };
  const online = g.presence === 'online';
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const params = { [name]: numeric ? { value: v, unit: (s as NumericSetting).unit } : { value: v } };
      const r = await api<Command>('/api/commands', { body: { gateway: g.id, orderId, params, passphrase } });
      setPassphrase('');
      setReviewing(false);
      props.onSent(r);
    } catch (x) {
      setError((x as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="composer" onSubmit={send} aria-labelledby="composer-title">
      <h2 id="composer-title">
        Change a setting on {g.bed ?? g.id} <span class="muted">({KIND_NAMES[g.device?.kind ?? ''] ?? ''}, {profile.model})</span>
      </h2>
      {!online ? (
        <p class="error" role="alert">
          This bed is {g.presence}: remote changes are refused until its gateway is online. Change the setting at the device.
        </p>
      ) : null}
      <label>
        Setting
        <select
          name="setting"
          value={name}
          onChange={(e) => {
            setName(e.currentTarget.value);
            setValue('');
            setReviewing(false);
          }}
        >
          {names.map((n) => (
            <option value={n}>{n}</option>
          ))}
        </select>
      </label>
      {s !== undefined ? (
        <dl class="limits">
          <div>
            <dt>Present value</dt>
            <dd data-current>
              {fmt(current, typeof current === 'number' && !Number.isInteger(current) ? 1 : 0)} {numeric ? unitText(s.unit) : ''}
            </dd>
          </div>
          {s.type === 'number' ? (
            <>
              <div>
                <dt>Soft limits</dt>
                <dd>
                  {s.soft[0]}–{s.soft[1]} {unitText(s.unit)}
                </dd>
              </div>
              <div>
                <dt>Hard limits</dt>
                <dd>
                  {s.hard[0]}–{s.hard[1]} {unitText(s.unit)}
                </dd>
              </div>
              <div>
                <dt>Largest step</dt>
                <dd>
                  {s.maxStep} {unitText(s.unit)}
                </dd>
              </div>
            </>
          ) : null}
          <div>
            <dt>Changes allowed</dt>
            <dd>{s.maxChangesPerHour} per hour</dd>
          </div>
        </dl>
      ) : null}
      <label>
        New value
        {s?.type === 'enum' ? (
          <select name="value" value={value} onChange={(e) => (setValue(e.currentTarget.value), setReviewing(false))}>
            <option value="">— pick —</option>
            {s.values.map((x) => (
              <option value={x}>{x}</option>
            ))}
          </select>
        ) : (
          <input name="value" inputMode="decimal" value={value} onInput={(e) => (setValue(e.currentTarget.value), setReviewing(false))} />
        )}
      </label>
      <p class={`check check-${c.level}`} role="status">
        {c.level === 'blocked' ? '✗ ' : c.level === 'cosign' ? '⚠ ' : '✓ '}
        {c.text}
      </p>
      <label>
        Order reference
        <input name="orderId" value={orderId} onInput={(e) => setOrderId(e.currentTarget.value)} />
      </label>
      {!reviewing ? (
        <button type="button" disabled={c.level === 'blocked' || !online} onClick={() => setReviewing(true)}>
          Review change
        </button>
      ) : (
        <div class="review" aria-live="polite">
          <p class="change" data-review>
            {g.bed ?? g.id}: <strong>{name}</strong> {fmt(current, typeof current === 'number' && !Number.isInteger(current) ? 1 : 0)} → <strong>{String(v)}</strong> {numeric ? unitText((s as NumericSetting).unit) : ''}
          </p>
          {c.level === 'cosign' ? <p class="check check-cosign">A second clinician will be asked to approve before it is sent.</p> : null}
          <label>
            Your signing passphrase
            <input name="passphrase" type="password" autocomplete="off" required value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy || passphrase === ''}>
            {busy ? 'Signing…' : c.level === 'cosign' ? 'Sign and ask for approval' : 'Sign and send'}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setReviewing(false)}>
            Back
          </button>
        </div>
      )}
      {error !== '' ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

export function ConsolePage(props: { id: string | undefined }) {
  const ward = useWard();
  useGatewayChanges(props.id ?? ''); // the bed's present settings, as its births report them
  const { user } = useSession();
  const profiles = useProfiles();
  const commands = useCommands(undefined);
  const [sent, setSent] = useState<number | undefined>(undefined);
  const beds = [...ward.gateways.values()].filter((g) => g.device !== null).sort(byBed);
  const g = props.id === undefined ? undefined : ward.gateways.get(props.id);
  const profile = profiles.find((p) => p.model === g?.device?.model);
  const followed = commands.find((c) => c.id === sent);
  const bedOf = (id: string) => ward.gateways.get(id)?.bed ?? id;
  return (
    <main id="main" class="page console">
      <h1>Setting changes</h1>
      <Approvals commands={commands} profiles={profiles} />
      {CLINICAL.includes(user.role) ? (
        <>
          <label class="bed-pick">
            Bed
            <select name="bed" value={props.id ?? ''} onChange={(e) => navigate(`/console/${encodeURIComponent(e.currentTarget.value)}`)}>
              <option value="">— pick a bed —</option>
              {beds.map((b) => (
                <option value={b.id}>
                  {b.bed ?? b.id} · {KIND_NAMES[b.device?.kind ?? '']} · {b.presence}
                </option>
              ))}
            </select>
          </label>
          {g !== undefined && profile !== undefined ? <Composer key={g.id} g={g} profile={profile} onSent={(c) => setSent(c.id)} /> : null}
          {g !== undefined && profile === undefined && profiles.length > 0 ? <p>No device profile for {g.device?.model ?? 'this device'}: it cannot be changed remotely.</p> : null}
        </>
      ) : (
        <p>Your role ({user.role}) cannot send setting changes. Clinicians sign changes with their own key.</p>
      )}
      {followed !== undefined ? (
        <section aria-labelledby="result-title" class="followed">
          <h2 id="result-title">
            Your change: {bedOf(followed.gateway)} {changeText(followed, profile)}
          </h2>
          <Progress c={followed} />
        </section>
      ) : null}
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent changes on the ward</h2>
        <CommandHistory commands={commands.slice(0, 30)} profile={undefined} bedOf={bedOf} />
        <p>
          <Link href="/">Back to the ward</Link>
        </p>
      </section>
    </main>
  );
}
