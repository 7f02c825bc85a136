/** The data the charts of components/Charts.tsx draw; a plain module, so Node tests can import what builds it. */
export interface Series {
  key: string;
  label: string;
  color: string;
}

export interface StackedPoint {
  label: string;
  /** A shorter label for the axis, where there is little room. */
  axis?: string;
  values: Record<string, number>;
}
