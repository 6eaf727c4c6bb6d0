// A small PNG reader (8-bit RGB/RGBA, non-interlaced: what Chromium's screenshots are) and a pixel
// summary used to tell a drawn chart from a blank one.
import { inflateSync } from 'node:zlib';

/** @returns {{ width: number, height: number, rgba: Uint8Array }} */
export function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8,
    width = 0,
    height = 0,
    colorType = 0,
    depth = 0,
    interlace = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      colorType = data[9];
      interlace = data[12];
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = { 2: 3, 6: 4 }[colorType];
  if (depth !== 8 || !channels || interlace) throw new Error(`unsupported PNG (depth ${depth}, colour type ${colorType}, interlace ${interlace})`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride),
    cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels] : 0,
        b = prev[x],
        c = x >= channels ? prev[x - channels] : 0;
      let v = line[x];
      switch (filter) {
        case 0:
          break;
        case 1:
          v += a;
          break;
        case 2:
          v += b;
          break;
        case 3:
          v += (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c,
            pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      cur[x] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4,
        i = x * channels;
      out[o] = cur[i];
      out[o + 1] = cur[i + 1];
      out[o + 2] = cur[i + 2];
      out[o + 3] = channels === 4 ? cur[i + 3] : 255;
    }
    [prev, cur] = [cur, prev];
  }
  return { width, height, rgba: out };
}

/**
 * How much is drawn on an image: the background is its most common colour; `ink` counts pixels
 * that differ from it clearly, `chromatic` those with a clear hue (chart series, heat-map cells;
 * axes, grid lines and text in a VS Code theme are grey), `colours` the distinct colours among the
 * ink (quantised to 4 bits a channel).
 */
export function inkStats(png) {
  const { width, height, rgba } = png;
  const counts = new Map();
  for (let i = 0; i < rgba.length; i += 4) {
    const k = (rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2];
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let bg = 0,
    best = -1;
  for (const [k, n] of counts)
    if (n > best) {
      best = n;
      bg = k;
    }
  const br = bg >> 16,
    bgG = (bg >> 8) & 255,
    bb = bg & 255;
  let ink = 0,
    chromatic = 0;
  const colours = new Set();
  for (let i = 0; i < rgba.length; i += 4) {
    const r = rgba[i],
      g = rgba[i + 1],
      b = rgba[i + 2];
    if (Math.max(Math.abs(r - br), Math.abs(g - bgG), Math.abs(b - bb)) < 40) continue;
    ink++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) chromatic++;
    colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
  }
  const hex = (v) => `#${v.toString(16).padStart(6, '0')}`;
  return { width, height, background: hex(bg), ink, chromatic, colours: colours.size, inkFraction: ink / (width * height) };
}
