// A few DOM helpers: the page builds elements, never HTML strings, so API text cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** The states every section shows while and after it loads. */
export const state = {
  loading: (what = 'Loading…') => h('p', { class: 'state loading', role: 'status' }, what),
  empty: (what) => h('p', { class: 'state empty', role: 'status' }, what),
  error: (e) => {
    const forbidden = e.status === 403;
    return h('div', { class: 'state ' + (forbidden ? 'forbidden' : 'error'), role: 'alert', 'data-status': e.status, 'data-code': e.code },
      h('strong', {}, forbidden ? 'Not allowed with this key' : e.status === 401 ? 'Sign-in needed' : 'Could not load'),
      h('span', {}, ` ${e.message}`),
      e.code ? h('code', {}, ` ${e.code}`) : null);
  },
};

/** Replaces a section's content once its promise settles, showing loading, then content or the error. */
export async function fill(container, promise, render) {
  container.replaceChildren(state.loading());
  container.setAttribute('aria-busy', 'true');
  try {
    const value = await promise;
    container.replaceChildren(...[render(value)].flat().filter(Boolean));
  } catch (e) {
    console.warn(e); // a refused request is a state of the page, not a script error
    container.replaceChildren(state.error(e));
  } finally {
    container.removeAttribute('aria-busy');
  }
}

const SVG = 'http://www.w3.org/2000/svg';
/** A tiny trend line as SVG (dozens per page: lighter than a chart instance each). */
export function sparkline(values, label) {
  const width = 120, height = 32;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const points = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined);
  if (points.length < 2) return svg;
  const ys = points.map(([, v]) => v);
  const min = Math.min(...ys), max = Math.max(...ys);
  const x = (i) => (i / (values.length - 1)) * (width - 2) + 1;
  const y = (v) => (max === min ? height / 2 : height - 2 - ((v - min) / (max - min)) * (height - 4));
  const path = document.createElementNS(SVG, 'polyline');
  path.setAttribute('points', points.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '));
  svg.append(path);
  return svg;
}
