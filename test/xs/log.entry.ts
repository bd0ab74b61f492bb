import './shims.js';
import { serve } from './bridge.js';
import { appendMany, contract, exhaustive, prepare, scan, sweep, vitals } from '../portable/log-xs-cases.js';

serve({ contract, exhaustive, sweep, vitals, prepare, scan, appendMany, gc: () => ((globalThis as { gc?: () => void }).gc?.(), true) });
