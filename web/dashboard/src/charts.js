// Apache ECharts, only the parts the dashboard draws (tree-shaken by esbuild): line, bar and heat-map charts
// on canvas. Every chart is a labelled image (role="img", aria-label) with a table or tiles of the same
// numbers nearby, since a canvas says nothing to a screen reader.
import * as echarts from 'echarts/core';
import { LineChart, BarChart, HeatmapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { h } from './dom.js';

echarts.use([LineChart, BarChart, HeatmapChart, GridComponent, TooltipComponent, LegendComponent, VisualMapComponent, CanvasRenderer]);

const live = new Set();
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) echarts.getInstanceByDom(entry.target)?.resize();
});

/** Disposes the charts of the page being left (the router calls it). */
export function disposeCharts() {
  for (const el of live) {
    resizer.unobserve(el);
    echarts.getInstanceByDom(el)?.dispose();
  }
  live.clear();
}

/** A chart container; the option is set once it is in the document (ECharts needs its size). */
export function chart(label, option, { tall = false } = {}) {
  const el = h('div', { class: tall ? 'chart tall' : 'chart', role: 'img', 'aria-label': label });
  queueMicrotask(() => requestAnimationFrame(() => {
    if (!el.isConnected) return;
    const instance = echarts.init(el, null, { renderer: 'canvas' });
    instance.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
    // The option as ECharts holds it, for the browser tests (what is drawn: stacked or not, which series).
    el.chartOption = () => instance.getOption();
    live.add(el);
    resizer.observe(el);
  }));
  return el;
}

export const palette = ['#2f6fde', '#e8833a', '#2a9d6f', '#c94c7c', '#7c5cc4', '#b7a41c', '#3aa6c2', '#8a5a2b', '#6b7a8f', '#d1495b', '#1d3557', '#99b84a'];

/** A time-series line or bar option: series = [{name, data: [[day, value, row]]}]. */
export function timeSeries({ series, yFormat, stacked = false, bars = false, tooltip }) {
  return {
    color: palette,
    grid: { left: 8, right: 16, top: series.length > 1 ? 40 : 16, bottom: 8, containLabel: true },
    legend: series.length > 1 ? { type: 'scroll', top: 0 } : undefined,
    tooltip: { trigger: 'axis', confine: true, valueFormatter: yFormat, formatter: tooltip },
    xAxis: { type: 'category', boundaryGap: bars, data: [...new Set(series.flatMap((s) => s.data.map((d) => d[0])))].sort() },
    yAxis: { type: 'value', axisLabel: { formatter: yFormat }, scale: !stacked && !bars },
    series: series.map((s) => ({
      name: s.name,
      type: bars ? 'bar' : 'line',
      stack: stacked ? 'all' : undefined,
      areaStyle: stacked && !bars ? { opacity: 0.5 } : undefined,
      showSymbol: false,
      connectNulls: false,
      data: s.data.map(([day, value, row]) => ({ value: [day, value], row })),
      encode: { x: 0, y: 1 },
    })),
  };
}

/** A chart's frame: a figure with its caption (the chart's title), then the chart, notes and tables. */
export function panel(title, ...content) {
  return h('figure', { class: 'panel' }, h('figcaption', {}, title), ...content);
}

/** Text for ECharts' HTML tooltips: values from the API (a referrer is any text the SDK sent) stay text. */
export const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A bar chart of categories (horizontal bars when the labels are long or many). format labels the axis,
 * valueText the tooltip (the full number).
 */
export function bars({ labels, values, name, horizontal = false, format, valueText = format }) {
  const category = { type: 'category', data: labels, axisLabel: horizontal ? { width: 140, overflow: 'truncate' } : { interval: 0, rotate: labels.length > 8 ? 45 : 0 }, inverse: horizontal };
  const value = { type: 'value', axisLabel: { formatter: format }, minInterval: 1 };
  return {
    color: palette,
    grid: { left: 8, right: 24, top: 12, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', confine: true, formatter: (items) => `${escapeHtml(items[0].name)}: ${escapeHtml(valueText(items[0].value))} ${escapeHtml(name)}` },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? category : value,
    series: [{ type: 'bar', name, data: values, barMaxWidth: 28 }],
  };
}
