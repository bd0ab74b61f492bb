/** ESP32: the local alarm output, a GPIO driving an LED and a buzzer (`alarmPin` in the config, default 2). */
import Digital from 'embedded:io/digital';
import config from 'mc/config';

export interface AlarmOutput {
  set(on: boolean): void;
}

export function openAlarm(): AlarmOutput {
  const pin = (config as unknown as { alarmPin?: number }).alarmPin ?? 2;
  const out = new Digital({ pin, mode: Digital.Output });
  return { set: (on) => out.write(on ? 1 : 0) };
}
