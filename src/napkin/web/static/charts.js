// Draws the API's chart specs as SVG. A spec is in data coordinates with its ticks and labels
// already formatted, so this file only maps values to pixels (linear or log scales).
// Written by hand instead of shipping a chart library: four fixed chart shapes need about as
// many lines as the glue code around a library would.
"use strict";

const NapkinCharts = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const MARGIN = { left: 112, right: 40, top: 30, bottom: 46 };

  function node(tag, attributes = {}, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function scale(axis, from, to) {
    if (axis.scale === "log") {
      const low = Math.log(axis.min);
      const span = Math.log(axis.max) - low || 1;
      return (value) => from + ((Math.log(Math.max(value, axis.min)) - low) / span) * (to - from);
    }
    const span = axis.max - axis.min || 1;
    return (value) => from + ((value - axis.min) / span) * (to - from);
  }

  function drawXAxis(svg, axis, x, top, bottom) {
    for (const tick of axis.ticks) {
      const px = x(tick.value);
      svg.append(node("line", { class: "grid", x1: px, x2: px, y1: top, y2: bottom }));
      svg.append(node("text", { class: "tick", x: px, y: bottom + 16, "text-anchor": "middle" }, tick.label));
    }
    const middle = (x(axis.min) + x(axis.max)) / 2;
    svg.append(node("text", { class: "axis-label", x: middle, y: bottom + 36, "text-anchor": "middle" }, axis.label));
  }

  function drawYAxis(svg, axis, y, left, right, height) {
    for (const tick of axis.ticks) {
      const py = y(tick.value);
      svg.append(node("line", { class: "grid", x1: left, x2: right, y1: py, y2: py }));
      svg.append(node("text", { class: "tick", x: left - 8, y: py + 4, "text-anchor": "end" }, tick.label));
    }
    svg.append(node("text", { class: "axis-label", x: 14, y: height / 2, transform: `rotate(-90 14 ${height / 2})`, "text-anchor": "middle" }, axis.label));
  }

  function drawBars(svg, spec, x) {
    const barTop = MARGIN.top + 6;
    const barHeight = 40;
    for (const bar of spec.bars) {
      let start = 0;
      bar.segments.forEach((segment, index) => {
        const x0 = x(start);
        const x1 = x(start + segment.value);
        const rect = node("rect", { class: `segment segment-${index}`, x: x0, y: barTop, width: Math.max(0, x1 - x0), height: barHeight });
        rect.append(node("title", {}, segment.label));
        svg.append(rect);
        start += segment.value;
      });
    }
  }

  // The legend is HTML below the chart, so long labels wrap instead of overlapping.
  function legend(spec) {
    const list = document.createElement("ul");
    list.className = "legend";
    const add = (className, text) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch ${className}`;
      item.append(swatch, document.createTextNode(text));
      list.append(item);
    };
    for (const bar of spec.bars || []) {
      bar.segments.forEach((segment, index) => add(`segment-${index}`, segment.label));
      if (bar.total_label) add("swatch-none", bar.total_label);
    }
    const kinds = [...new Set((spec.points || []).map((p) => p.kind).filter((k) => k !== "chosen"))];
    for (const kind of kinds) add(`point-${kind}`, (spec.point_labels || {})[kind] || kind);
    return list.childElementCount ? list : null;
  }

  function render(figure, spec) {
    const width = Math.max(360, Math.min(figure.clientWidth || 640, 900));
    const isBar = spec.bars && spec.bars.length > 0;
    const height = isBar ? 130 : 300;
    const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": spec.title });
    svg.append(node("title", {}, spec.title));
    const left = MARGIN.left;
    const right = width - MARGIN.right;
    const top = MARGIN.top;
    const bottom = height - MARGIN.bottom;
    const x = scale(spec.x, left, right);

    svg.append(node("text", { class: "chart-title", x: left, y: 18 }, spec.title));
    drawXAxis(svg, spec.x, x, top, bottom);
    let y = null;
    if (spec.y) {
      y = scale(spec.y, bottom, top);
      drawYAxis(svg, spec.y, y, left, right, height);
    }
    if (isBar) drawBars(svg, spec, x);

    for (const rule of spec.rules || []) {
      const px = x(rule.value);
      svg.append(node("line", { class: "rule", x1: px, x2: px, y1: top, y2: bottom }));
      svg.append(node("text", { class: "rule-label", x: px - 4, y: top - 2, "text-anchor": "end" }, rule.label));
    }

    if (y) {
      for (const line of spec.lines || []) {
        const points = line.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(" ");
        svg.append(node("polyline", { class: `series series-${line.name.replace(/\W+/g, "-")}`, points }));
      }
      for (const point of spec.points || []) {
        const px = x(point.x);
        const py = y(point.y);
        const circle = node("circle", { class: `point point-${point.kind}`, cx: px, cy: py, r: point.kind === "chosen" ? 6 : 5 });
        circle.append(node("title", {}, point.label));
        svg.append(circle);
        if (point.tag) {
          svg.append(node("text", { class: "point-tag", x: px + 7, y: py + 15 }, point.tag));
        }
        if (point.kind === "chosen") {
          const anchor = px > (left + right) / 2 ? "end" : "start";
          const dx = anchor === "end" ? -10 : 10;
          svg.append(node("text", { class: "point-label", x: px + dx, y: py - 10, "text-anchor": anchor }, point.label));
        }
      }
    }

    const items = legend(spec);
    if (items) figure.replaceChildren(svg, items);
    else figure.replaceChildren(svg);
    figure.dataset.rendered = "1";
  }

  return { render };
})();
