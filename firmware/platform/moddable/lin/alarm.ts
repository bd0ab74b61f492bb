/** Linux: no GPIO; the alarm output is traced on each change ("vigil alarm-output on|off"), which the test reads. */
export interface AlarmOutput {
  set(on: boolean): void;
}

export function openAlarm(): AlarmOutput {
  let state: boolean | undefined;
  return {
    set(on) {
      if (on === state) return;
      state = on;
      trace(`vigil alarm-output ${on ? 'on' : 'off'}\n`);
    },
  };
}
