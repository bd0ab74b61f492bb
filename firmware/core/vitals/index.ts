export { batchFromMap, decodeBatch, encodeBatch, type Clock, type Column, type VitalsBatch, type VitalsError } from './batch.js';
export { METRICS, metricByKey, metricByMdc, type MetricSpec } from './metrics.js';
