/**
 * The few plotly.js entry points the renderers use. plotly.js-cartesian-dist-min ships no types; this keeps
 * the renderer free of `any` without pulling in the multi-megabyte @types/plotly.js.
 */
declare module 'plotly.js-cartesian-dist-min' {
  /** A trace or layout: plain data that plotly reads. */
  export type PlotData = Record<string, unknown>;

  /** The element plotly draws into, with the state it attaches. */
  /** A click on a data point: `pointIndex` into the trace's x/y (heatmaps also give `x` and `y`). */
  export interface PlotClickEvent {
    points: { curveNumber: number; pointIndex?: number; pointNumber?: number | number[]; x?: unknown; y?: unknown }[];
  }

  export interface PlotlyHTMLElement extends HTMLElement {
    data?: PlotData[];
    /** Plotly's own event emitter; handlers go away with Plotly.purge. */
    on(event: 'plotly_click', handler: (e: PlotClickEvent) => void): void;
    layout?: PlotData;
    _fullLayout?: PlotData;
  }

  export interface PlotlyStatic {
    newPlot(root: HTMLElement, data: PlotData[], layout?: PlotData, config?: PlotData): Promise<PlotlyHTMLElement>;
    react(root: HTMLElement, data: PlotData[], layout?: PlotData, config?: PlotData): Promise<PlotlyHTMLElement>;
    purge(root: HTMLElement): void;
    Plots: { resize(root: HTMLElement): Promise<void> | void };
  }

  const Plotly: PlotlyStatic;
  export default Plotly;
}
