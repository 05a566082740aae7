// Building the page's elements without a framework.
import { REPORT_GLOBAL } from '../report-data.ts';

type Child = Node | string | null | undefined | false;

/** An element with attributes (strings; `class` included) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

/** A titled section of the report. */
export function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return el('section', { id }, el('h2', {}, title), ...children);
}

/** A label: value table. */
export function factsTable(facts: [string, string][]): HTMLTableElement {
  return el('table', { class: 'facts' }, ...facts.map(([label, value]) => el('tr', {}, el('th', {}, label), el('td', {}, value))));
}

/** What data.js gave the page. */
export function reportData<T>(): T {
  return (window as unknown as Record<string, T>)[REPORT_GLOBAL];
}

/** Loads a script file: the one way a file:// page can read more data (fetch of file:// URLs is refused). */
export function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = el('script', { src });
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const size = Math.abs(value);
  return size !== 0 && (size < 1e-3 || size >= 1e5) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}
