export { crc32 } from './crc32.js';
export { decodeDrop, type DropReport, type DroppedRange } from './drop.js';
export { FlashError, type Flash, type FlashErrorType } from './flash.js';
export { openLog, type AckResult, type AppendResult, type BootScan, type LogRecord, type LogStats, type VitalsLog } from './log.js';
