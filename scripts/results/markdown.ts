// Numbers and tables as markdown: three decimals (or three significant digits below 0.01), – for no value.
import { summarize } from '../../src/stats/tests.ts';

export const num = (x: number): string => (!Number.isFinite(x) ? '–' : x === 0 || Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2));
export const pValue = (p: number): string => (!Number.isFinite(p) ? '–' : p >= 0.001 ? p.toFixed(3) : p.toExponential(1));
/** Mean ± sample sd, or the value alone for one. */
export const meanSd = (xs: number[]): string => {
  const s = summarize(xs);
  return xs.length < 2 ? num(s.mean) : `${num(s.mean)} ± ${num(s.sd)}`;
};
export const interval = (low: number, high: number): string => (Number.isFinite(low) ? `[${num(low)}, ${num(high)}]` : '–');

const cell = (text: string) => text.replaceAll('|', '\\|');
export const table = (header: string[], rows: string[][]): string[] => [
  `| ${header.map(cell).join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
];
