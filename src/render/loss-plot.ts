import sharp from 'sharp';

export interface Series {
  label: string;
  colour: string;
  values: number[];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A line chart of per-epoch values (the lesson's discriminator/generator loss plot), as a PNG. */
export async function lineChartPng(series: Series[], labels: { x: string; y: string }, size = { width: 700, height: 400 }): Promise<Buffer> {
  const { width, height } = size;
  const margin = { left: 60, right: 130, top: 20, bottom: 45 }; // the legend sits in the right margin
  const finite = series.flatMap((s) => s.values).filter(Number.isFinite);
  const points = Math.max(1, ...series.map((s) => s.values.length));
  const low = Math.min(0, ...finite);
  const high = Math.max(low + 1e-6, ...finite);
  const x = (i: number) => margin.left + (points === 1 ? 0.5 : i / (points - 1)) * (width - margin.left - margin.right);
  const y = (v: number) => height - margin.bottom - ((v - low) / (high - low)) * (height - margin.top - margin.bottom);
  const ticks = Array.from({ length: 5 }, (_, i) => low + ((high - low) * i) / 4);
  const epochTicks = [...new Set([0, Math.floor((points - 1) / 2), points - 1])];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect width="100%" height="100%" fill="white"/>
  <g font-family="sans-serif" font-size="12" fill="#333">
    ${ticks.map((t) => `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${margin.left - 6}" y="${y(t) + 4}" text-anchor="end">${t.toFixed(2)}</text>`).join('')}
    ${epochTicks.map((i) => `<text x="${x(i)}" y="${height - margin.bottom + 16}" text-anchor="middle">${i + 1}</text>`).join('')}
    <text x="${(width + margin.left) / 2}" y="${height - 8}" text-anchor="middle" font-size="14">${escape(labels.x)}</text>
    <text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle" font-size="14">${escape(labels.y)}</text>
    ${series
      .map((s, k) => {
        const path = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : null)).filter(Boolean);
        const line = path.length > 1 ? `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${path.join(' ')}"/>` : '';
        const dots = path.length === 1 ? `<circle cx="${path[0]!.split(',')[0]}" cy="${path[0]!.split(',')[1]}" r="3" fill="${s.colour}"/>` : '';
        return `${line}${dots}<rect x="${width - margin.right + 12}" y="${margin.top + 6 + k * 18}" width="12" height="3" fill="${s.colour}"/><text x="${width - margin.right + 30}" y="${margin.top + 11 + k * 18}">${escape(s.label)}</text>`;
      })
      .join('\n')}
  </g>
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
