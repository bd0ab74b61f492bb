export { crc32 } from './crc32.js';
export { FlashError, type Flash, type FlashErrorType } from './flash.js';
export { decodeDrop, openLog, type AppendResult, type BootScan, type DropReport, type DroppedRange, type LogRecord, type LogStats, type VitalsLog } from './log.js';
