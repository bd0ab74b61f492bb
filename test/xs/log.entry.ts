import './shims.js';
import { serve } from './bridge.js';
import { appendMany, campaign, contract, exhaustive, fault, prepare, scan, sweep, vitals } from '../portable/log-xs-cases.js';

serve({ contract, exhaustive, sweep, fault, campaign, vitals, prepare, scan, appendMany, gc: () => ((globalThis as { gc?: () => void }).gc?.(), true) });
