/** A command's life in words: who, when, old → new, and the outcome with the gateway's reason in plain words. */
import { clockTime, reasonText, STATUS_TEXT, unitText } from '../format.js';
import type { Command, Profile } from '../types.js';

export function changeText(c: Command, profile: Profile | undefined): string {
  return Object.entries(c.params)
    .map(([k, p]) => {
      const s = profile?.settings[k];
      const unit = p.unit ?? (s?.type === 'number' ? s.unit : '');
      const old = c.previous?.[k];
      return `${k} ${old === null || old === undefined ? '?' : old} → ${p.value}${unit ? ` ${unitText(unit)}` : ''}`;
    })
    .join(', ');
}

export function StatusText(props: { c: Command }) {
  const { c } = props;
  return (
    <span class={`status status-${c.status}`} data-status={c.status}>
      {STATUS_TEXT[c.status] ?? c.status}
      {c.reason ? `: ${reasonText(c.reason)}` : ''}
    </span>
  );
}

export function CommandHistory(props: { commands: readonly Command[]; profile: Profile | undefined; bedOf?: (gateway: string) => string }) {
  if (props.commands.length === 0) return <p>No setting changes have been sent to this bed.</p>;
  return (
    <table class="commands">
      <thead>
        <tr>
          {props.bedOf ? <th scope="col">Bed</th> : null}
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Change (old → new)</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {props.commands.map((c) => (
          <tr data-command-id={c.id}>
            {props.bedOf ? <td>{props.bedOf(c.gateway)}</td> : null}
            <td>
              {clockTime(c.created, true)}
              {c.updated !== c.created ? <span class="muted"> (updated {clockTime(c.updated, true)})</span> : null}
            </td>
            <td>
              {c.requested_by}
              {c.cosigned_by ? `, approved by ${c.cosigned_by}` : ''}
            </td>
            <td>{changeText(c, props.profile)}</td>
            <td>
              <StatusText c={c} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
