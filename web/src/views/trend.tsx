/**
 * Trend charts (uPlot): one small chart per metric, samples recorded live drawn solid and samples that
 * arrived by back-fill after an outage drawn dashed in another colour, named in the legend. The live
 * window appends the stream's batches and redraws at most once a second.
 */
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { metricLabel, unitText } from '../format.js';

export interface Series {
  readonly key: string;
  readonly unit: string;
  /** Seconds (uPlot's time axis). */
  t: number[];
  live: Array<number | null>;
  backfilled: Array<number | null>;
}

export function TrendChart(props: { series: Series; version: number; windowMs: number; skew: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const s = props.series;
  // the x axis always spans the chosen window, ending now (a lone spot measurement does not stretch it)
  const span = useRef(props);
  span.current = props;
  const range = (): [number, number] => {
    const to = (Date.now() + span.current.skew) / 1000;
    return [to - span.current.windowMs / 1000, to];
  };
  useEffect(() => {
    const el = box.current!;
    const width = Math.max(280, el.clientWidth);
    const u = new uPlot(
      {
        width,
        height: 150,
        scales: { x: { time: true, range } },
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        axes: [{ stroke: '#c9d1d9', grid: { stroke: '#30363d' }, ticks: { stroke: '#30363d' } }, { stroke: '#c9d1d9', grid: { stroke: '#30363d' }, ticks: { stroke: '#30363d' }, size: 50 }],
        series: [
          {},
          { label: `${metricLabel(s.key)} (${unitText(s.unit)}) recorded live`, stroke: '#58a6ff', width: 2, spanGaps: false },
          { label: 'back-filled after an outage', stroke: '#f0883e', width: 2, dash: [6, 4], fill: 'rgba(240,136,62,0.12)', spanGaps: false },
        ],
      },
      [s.t, s.live, s.backfilled],
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height: 150 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [s.key, props.windowMs]);
  useEffect(() => {
    plot.current?.setData([s.t, s.live, s.backfilled]);
  }, [props.version]);
  const backfilled = s.backfilled.reduce<number>((n, v) => (v === null ? n : n + 1), 0);
  return (
    <div class="chart" ref={box} data-metric={s.key} data-points={s.t.length} data-backfilled={backfilled} role="img" aria-label={`${metricLabel(s.key)} trend: ${s.t.length} points, ${backfilled} back-filled`} />
  );
}
