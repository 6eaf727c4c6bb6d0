// One row of a Parquet file as text, for the editor: examples of Parquet data are placed by row
// (the trainer's `line` of a Parquet example is its 1-based row), and a Parquet file is binary,
// so "open the data file at this example" shows the row's fields instead (the extension's
// read-only row document). Integer labels get their ClassLabel names from the `huggingface`
// metadata the `datasets` library writes. Only the row's pages are read (hyparquet reads by range).

import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

export const isParquetFile = (file: string) => /\.parquet$/i.test(file);

/** int64 values come back as BigInt: shown as numbers when they fit. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** ClassLabel names per column from the `huggingface` metadata (`names`, or `feature.names` for a list column). */
function classLabels(meta: { key_value_metadata?: { key: string; value?: string }[] }): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const hf = meta.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value;
  if (!hf) return out;
  try {
    const features = (JSON.parse(hf) as { info?: { features?: Record<string, { names?: unknown; feature?: { names?: unknown } }> } }).info?.features ?? {};
    for (const [col, f] of Object.entries(features)) {
      const names = f?.names ?? f?.feature?.names;
      if (Array.isArray(names) && names.every((n) => typeof n === 'string')) out[col] = names;
    }
  } catch {
    // metadata that is not JSON names nothing
  }
  return out;
}

/**
 * The text of row `row` (1-based) of a Parquet file: a comment naming file and row, then one
 * `column: value` line per column (values as JSON), and for a ClassLabel column a comment with
 * the names. Throws with a message when the file cannot be read or has no such row.
 */
export async function parquetRowText(file: string, row: number): Promise<string> {
  const buf = await asyncBufferFromFile(file);
  const meta = await parquetMetadataAsync(buf);
  const rows = Number(meta.num_rows);
  if (!Number.isInteger(row) || row < 1 || row > rows) throw new Error(`${file} has ${rows} rows; there is no row ${row}`);
  const [r] = await parquetReadObjects({ file: buf, metadata: meta, rowStart: row - 1, rowEnd: row, compressors });
  const names = classLabels(meta);
  const lines = [`# ${file}`, `# row ${row} of ${rows} (Parquet is binary: this read-only view shows the row's fields)`, ''];
  for (const col of parquetSchema(meta).children.map((c) => c.element.name)) {
    const v = plain(r?.[col]);
    let line = `${col}: ${JSON.stringify(v)}`;
    const n = names[col];
    const name = (i: unknown) => (typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < (n?.length ?? 0) ? n[i] : '?');
    if (n && typeof v === 'number') line += `  # ${name(v)}`;
    else if (n && Array.isArray(v)) line += `  # ${v.map(name).join(' ')}`;
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}
