// SVG charts: what the sample page's quality charts and the analysis page's coverage charts have in common (the
// plot area, a vertical scale, the labelled vertical axis, paths through points, compact numbers). Each chart
// keeps its own marks; these only make sure the charts are built, scaled and labelled alike.
import { svg as s } from "./virtool.js";

/** 1500 → "1.5k", 2300000 → "2.3M": numbers short enough for an axis. */
export function compact(value) {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return String(value);
}

/** The plot inside a `width` × `height` chart with `margin` ({top, right, bottom, left}): its corner and size. */
export function plotArea(width, height, margin) {
  return {
    left: margin.left,
    top: margin.top,
    width: width - margin.left - margin.right,
    height: height - margin.top - margin.bottom,
  };
}

/**
 * A vertical scale: values from 0 to `max` go from the plot's bottom to its top. Values outside are clamped to the
 * plot unless `clamp` is false (bars may then rise past an axis that ends on a round number below their top).
 */
export function yScale(area, max, { clamp = true } = {}) {
  const bottom = area.top + area.height;
  return clamp
    ? (value) => bottom - (Math.max(0, Math.min(max, value)) / max) * area.height
    : (value) => bottom - (value / max) * area.height;
}

/** An `<svg role=img>` of `width` × `height` named by its `<title>` (id `titleId`); `chart` names it for scripts. */
export function chartSvg({ width, height, className, chart, titleId, title, attrs = {} }) {
  const node = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: className,
    role: "img",
    "aria-labelledby": titleId,
    "data-chart": chart,
    ...attrs,
  });
  node.append(s("title", { id: titleId }, title));
  return node;
}

/** The vertical axis: a line along the plot's left edge. */
export function yAxisLine(area) {
  return s("line", { x1: area.left, x2: area.left, y1: area.top, y2: area.top + area.height });
}

/** A value written left of the vertical axis at the pixel height `py`. */
export function yTickLabel(area, py, text) {
  return s("text", { x: area.left - 6, y: py + 4, "text-anchor": "end" }, text);
}

/** The vertical axis's name, written upwards beside it. */
export function yAxisTitle(area, text) {
  return s(
    "text",
    { x: -(area.top + area.height / 2), y: 14, transform: "rotate(-90)", "text-anchor": "middle", class: "axis-label" },
    text,
  );
}

/** The `d` of a path through pixel points `[[x, y], ...]` (one decimal is finer than a screen pixel). */
export function pathData(points) {
  return points.map(([x, y], index) => `${index ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
}
