// Two PNGs next to each other on white, each under its label (the real and generated grids of --grids).
import sharp from 'sharp';

export async function sideBySide(left: Buffer, right: Buffer, labels: [string, string]): Promise<Buffer> {
  const widest = Math.max(...(await Promise.all([left, right].map(async (png) => (await sharp(png).metadata()).width!))));
  // Small grids are enlarged (pixels kept sharp) to about 200 pixels or more.
  const scale = Math.min(4, Math.max(1, Math.ceil(200 / widest)));
  const [a, b] = await Promise.all(
    [left, right].map(async (png, i) => {
      const meta = await sharp(png).metadata();
      const width = meta.width! * scale;
      const height = meta.height! * scale;
      const resized = await sharp(png).resize(width, height, { kernel: 'nearest' }).png().toBuffer();
      // At least as wide as its label (about 8 pixels a character).
      const room = Math.max(width, 8 * labels[i]!.length + 8);
      return { buffer: resized, width: room, height, offset: Math.floor((room - width) / 2) };
    }),
  );
  const gap = 16;
  const top = 22;
  const width = a!.width + gap + b!.width;
  const height = top + Math.max(a!.height, b!.height);
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const text = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top}"><g font-family="sans-serif" font-size="14" fill="#333">
    <text x="${a!.width / 2}" y="16" text-anchor="middle">${escape(labels[0])}</text>
    <text x="${a!.width + gap + b!.width / 2}" y="16" text-anchor="middle">${escape(labels[1])}</text></g></svg>`;
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: Buffer.from(text), left: 0, top: 0 },
      { input: a!.buffer, left: a!.offset, top },
      { input: b!.buffer, left: a!.width + gap + b!.offset, top },
    ])
    .png()
    .toBuffer();
}
