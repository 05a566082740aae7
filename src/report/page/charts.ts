// Plots with Apache ECharts: line charts for the time series (losses, D outputs, quality metrics) and the
// sweep's parallel coordinates, from one maintained library; only the parts used are bundled.
import { LineChart, ParallelChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  MarkPointComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { init, use, type EChartsType } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsOption } from 'echarts';
import { el } from './dom.ts';

use([
  LineChart,
  ParallelChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  DataZoomComponent,
  MarkLineComponent,
  MarkPointComponent,
  ParallelComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type ChartOption = EChartsOption;

export interface Chart {
  box: HTMLElement;
  /** Draws `option` in place of what the chart shows. */
  update(option: ChartOption): void;
}

/** A chart in a new box, drawn once the caller has put the box in the page (ECharts measures it); it follows the window's size. */
export function chart(id: string, option: ChartOption): Chart {
  const box = el('div', { class: 'chart', id });
  let shown = option;
  let instance: EChartsType | undefined;
  requestAnimationFrame(() => {
    instance = init(box, undefined, { renderer: 'canvas' });
    instance.setOption(shown);
    window.addEventListener('resize', () => instance!.resize());
  });
  return {
    box,
    update(next) {
      shown = next;
      instance?.setOption(next, { notMerge: true });
    },
  };
}

export const lineDefaults = {
  tooltip: { trigger: 'axis' as const },
  legend: { top: 0 },
  grid: { left: 60, right: 20, top: 40, bottom: 50 },
  dataZoom: [{ type: 'inside' as const }, { type: 'slider' as const, height: 18, bottom: 6 }],
  animation: false,
};

/** [x, y] pairs for a line series. */
export const pairs = (xs: number[], ys: (number | null)[]) => xs.map((x, i) => [x, ys[i]]);
