// Training-data readers: CoNLL (NER), JSONL and CSV (text classification), splitting and labels.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { detectScheme, normalizeTags, readConll } from '../src/trainer/data/conll';
import { DataError } from '../src/trainer/data/errors';
import { checkLabelsKnown, discoverLabels, entityTypes, seededShuffle, splitBySeed } from '../src/trainer/data/split';
import { readCsv, readJsonl } from '../src/trainer/data/textcls';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-data-'));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));

let counter = 0;
/** Writes a temp file and returns its path. */
function write(name: string, content: string | Uint8Array): string {
  const file = path.join(DIR, `${counter++}-${name}`);
  fs.writeFileSync(file, content);
  return file;
}

/** Asserts that the promise rejects with a DataError whose message equals (string) or matches (RegExp). */
async function rejectsWith(p: Promise<unknown>, expected: string | RegExp): Promise<DataError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${String(caught)}`);
  if (typeof expected === 'string') assert.equal(caught.message, expected);
  else assert.match(caught.message, expected);
  return caught;
}

function throwsWith(fn: () => unknown, expected: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.message, expected);
    return true;
  });
}

describe('DataError', () => {
  it('formats file, line and column', () => {
    assert.equal(new DataError('bad', 'a.txt').message, 'a.txt: bad');
    assert.equal(new DataError('bad', 'a.txt', 3).message, 'a.txt:3: bad');
    const e = new DataError('bad', 'a.txt', 3, 7);
    assert.equal(e.message, 'a.txt:3:7: bad');
    assert.equal(e.file, 'a.txt');
    assert.equal(e.line, 3);
    assert.equal(e.column, 7);
    assert.equal(e.reason, 'bad');
    assert.ok(e instanceof Error);
  });
});

const CONLL2003 = [
  '-DOCSTART- -X- -X- O',
  '',
  'EU NNP B-NP B-ORG',
  'rejects VBZ B-VP O',
  'German JJ B-NP B-MISC',
  'call NN I-NP O',
  '. . O O',
  '',
  'Peter NNP B-NP B-PER',
  'Blackburn NNP I-NP I-PER',
  '',
  '-DOCSTART- -X- -X- O',
  '',
  'BRUSSELS NNP B-NP B-LOC',
  '1996-08-22 CD I-NP O',
  '',
].join('\n');

describe('readConll', () => {
  it('reads a CoNLL-2003 file (word POS chunk NER) with -DOCSTART-', async () => {
    const f = write('train.conll', CONLL2003);
    const r = await readConll(f);
    assert.equal(r.documents, 2);
    assert.equal(r.tokens, 9);
    assert.equal(r.scheme, 'IOB2');
    assert.equal(r.sentences.length, 3);
    const [s1, s2, s3] = r.sentences;
    assert.deepEqual(s1.words, ['EU', 'rejects', 'German', 'call', '.']);
    assert.deepEqual(s1.tags, ['B-ORG', 'O', 'B-MISC', 'O', 'O']);
    assert.equal(s1.line, 3);
    assert.deepEqual(s1.tokenLines, [3, 4, 5, 6, 7]);
    assert.equal(s1.file, f);
    assert.deepEqual(s2.words, ['Peter', 'Blackburn']);
    assert.deepEqual(s2.tags, ['B-PER', 'I-PER']);
    assert.equal(s2.line, 9);
    assert.deepEqual(s3.words, ['BRUSSELS', '1996-08-22']);
    assert.equal(s3.line, 14);
  });

  it('reads tab-separated 2-column files, counts one document without -DOCSTART-', async () => {
    const f = write('two.tsv', 'John\tB-PER\nlives\tO\nin\tO\nNew\tB-LOC\nYork\tI-LOC\n\nHi\tO\n');
    const r = await readConll(f);
    assert.equal(r.sentences.length, 2);
    assert.equal(r.documents, 1);
    assert.equal(r.tokens, 6);
    assert.deepEqual(r.sentences[0].words, ['John', 'lives', 'in', 'New', 'York']);
    assert.deepEqual(r.sentences[0].tags, ['B-PER', 'O', 'O', 'B-LOC', 'I-LOC']);
    assert.equal(r.sentences[1].line, 7);
  });

  it('accepts mixed spaces and tabs, runs of whitespace and words with non-ASCII letters', async () => {
    const f = write('mixed.conll', 'Zoë \t B-PER\nMüller    I-PER\n東京\tB-LOC\n');
    const r = await readConll(f);
    assert.deepEqual(r.sentences[0].words, ['Zoë', 'Müller', '東京']);
    assert.deepEqual(r.sentences[0].tags, ['B-PER', 'I-PER', 'B-LOC']);
  });

  it('uses tagColumn (0-based, or negative from the end)', async () => {
    const f = write('tagcol.conll', 'Paris B-LOC NNP\nis O VBZ\n\nBob B-PER NNP\n');
    for (const tagColumn of [1, -2]) {
      const r = await readConll(f, { tagColumn });
      assert.deepEqual(
        r.sentences.map((s) => s.tags),
        [['B-LOC', 'O'], ['B-PER']],
      );
      assert.deepEqual(r.sentences[0].words, ['Paris', 'is']);
    }
    // The default (last column) holds POS tags here, which are not NER tags.
    await rejectsWith(readConll(f), `${f}:1:13: invalid tag 'NNP' (expected 'O' or B-/I-/E-/S- followed by an entity type, e.g. B-PER)`);
  });

  it('rejects a tag column out of range or equal to the word column', async () => {
    const f = write('tagcol-bad.conll', 'Paris B-LOC\n');
    await rejectsWith(readConll(f, { tagColumn: 2 }), `${f}:1: tag column 2 is out of range: the line has 2 columns`);
    await rejectsWith(readConll(f, { tagColumn: -3 }), `${f}:1: tag column -3 is out of range: the line has 2 columns`);
    await rejectsWith(readConll(f, { tagColumn: 0 }), `${f}:1: tag column 0 is the word column (column 0); the tag must be in another column`);
  });

  it('detects IOB1 and normalizes it to IOB2', async () => {
    // CoNLL-2003 as originally distributed: I- starts entities, B- only between adjacent same-type entities.
    const f = write(
      'iob1.conll',
      [
        'U.N. NNP I-NP I-ORG',
        'official NN I-NP O',
        'Ekeus NNP I-NP I-PER',
        'heads VBZ I-VP O',
        '',
        'Mary NNP I-NP I-PER',
        'Jane NNP I-NP B-PER',
        'Smith NNP I-NP I-PER',
        'Paris NNP I-NP I-LOC',
        '',
      ].join('\n'),
    );
    const r = await readConll(f);
    assert.equal(r.scheme, 'IOB1');
    assert.deepEqual(r.sentences[0].tags, ['B-ORG', 'O', 'B-PER', 'O']);
    assert.deepEqual(r.sentences[1].tags, ['B-PER', 'B-PER', 'I-PER', 'B-LOC']);
  });

  it('detects BIOES and normalizes it to IOB2', async () => {
    const f = write(
      'bioes.conll',
      [
        'Obama S-PER',
        'met O',
        'the O',
        'United B-ORG',
        'Nations I-ORG',
        'Council E-ORG',
        'in O',
        'New B-LOC',
        'York E-LOC',
        'Merkel S-PER',
        'Scholz S-PER',
      ].join('\n') + '\n',
    );
    const r = await readConll(f);
    assert.equal(r.scheme, 'BIOES');
    assert.deepEqual(r.sentences[0].tags, ['B-PER', 'O', 'O', 'B-ORG', 'I-ORG', 'I-ORG', 'O', 'B-LOC', 'I-LOC', 'B-PER', 'B-PER']);
  });

  it('honours an explicit scheme', async () => {
    const f = write('explicit.conll', 'a I-PER\nb I-PER\n');
    const r = await readConll(f, { scheme: 'IOB2' });
    assert.equal(r.scheme, 'IOB2');
    assert.deepEqual(r.sentences[0].tags, ['B-PER', 'I-PER']);
    const b = await readConll(write('explicit-bioes.conll', 'a B-PER\nb E-PER\n'), { scheme: 'BIOES' });
    assert.equal(b.scheme, 'BIOES');
    assert.deepEqual(b.sentences[0].tags, ['B-PER', 'I-PER']);
  });

  it('counts a final sentence without a trailing newline; CRLF, BOM and whitespace-only separators work', async () => {
    const noNl = await readConll(write('nonl.conll', 'a O\nb B-PER\n\nc O\nd B-LOC'));
    assert.equal(noNl.sentences.length, 2);
    assert.deepEqual(noNl.sentences[1].words, ['c', 'd']);
    assert.deepEqual(noNl.sentences[1].tokenLines, [4, 5]);

    const crlf = await readConll(write('crlf.conll', '\uFEFFa O\r\nb B-PER\r\n \t \r\n\r\n\r\nc O\r\n'));
    assert.equal(crlf.sentences.length, 2);
    assert.deepEqual(crlf.sentences[0].words, ['a', 'b']);
    assert.deepEqual(crlf.sentences[0].tags, ['O', 'B-PER']);
    assert.equal(crlf.sentences[1].line, 6);

    // -DOCSTART- ends a sentence even without a blank line before it.
    const doc = await readConll(write('doc.conll', 'a O\n-DOCSTART- O\nb O\n'));
    assert.equal(doc.sentences.length, 2);
    assert.equal(doc.documents, 1);
  });

  it('rejects a missing file with a clear message', async () => {
    const f = path.join(DIR, 'does-not-exist.conll');
    const e = await rejectsWith(readConll(f), `${f}: file not found`);
    assert.doesNotMatch(e.message, /ENOENT/);
    await rejectsWith(readConll(DIR), `${DIR}: is a directory, expected a file`);
  });

  it('rejects an empty file and a file without sentences', async () => {
    const empty = write('empty.conll', '');
    await rejectsWith(readConll(empty), `${empty}: file is empty`);
    const bomOnly = write('bom.conll', '\uFEFF');
    await rejectsWith(readConll(bomOnly), `${bomOnly}: file is empty`);
    const none = write('none.conll', '-DOCSTART- -X- -X- O\n\n\n');
    await rejectsWith(readConll(none), `${none}: no sentences found (3 lines, none with a token)`);
  });

  it('rejects lines with a different number of columns, naming the line and both counts', async () => {
    const f = write('cols.conll', '-DOCSTART- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-MISC\n');
    await rejectsWith(readConll(f), `${f}:5: found 3 columns, expected 4 (as on line 3, the first token line)`);
    const one = write('onecol.conll', 'EU B-ORG\n\nrejects\n');
    await rejectsWith(readConll(one), `${one}:3: found 1 column, expected 2 (as on line 1, the first token line)`);
    const single = write('single.conll', 'EU\n');
    await rejectsWith(readConll(single), `${single}:1: found 1 column, expected at least 2 (a word and a tag, separated by spaces or tabs)`);
  });

  it('rejects unknown tag prefixes and bare types, naming line, column and tag', async () => {
    const x = write('xprefix.conll', 'a O\n\nJohn X-PER\n');
    await rejectsWith(readConll(x), `${x}:3:6: invalid tag 'X-PER' (expected 'O' or B-/I-/E-/S- followed by an entity type, e.g. B-PER)`);
    const bare = write('bare.conll', 'John\tPER\n');
    await rejectsWith(readConll(bare), `${bare}:1:6: invalid tag 'PER' (expected 'O' or B-/I-/E-/S- followed by an entity type, e.g. B-PER)`);
    const noType = write('notype.conll', 'John B-\n');
    await rejectsWith(readConll(noType), /^.*:1:6: invalid tag 'B-'/);
    const lower = write('lower.conll', 'John b-PER\n');
    await rejectsWith(readConll(lower, { scheme: 'IOB2' }), `${lower}:1:6: invalid tag 'b-PER' (expected 'O' or B-/I- followed by an entity type, e.g. B-PER)`);
  });

  it('rejects E-/S- prefixes under an explicit IOB scheme', async () => {
    const f = write('es.conll', 'New B-LOC\nYork E-LOC\n');
    await rejectsWith(
      readConll(f, { scheme: 'IOB2' }),
      `${f}:2:6: tag 'E-LOC' is not allowed in the IOB2 scheme (only B- and I- prefixes; use scheme 'BIOES' or 'auto')`,
    );
    const s = write('s.conll', 'x O\nBob S-PER\n');
    await rejectsWith(
      readConll(s, { scheme: 'IOB1' }),
      `${s}:2:5: tag 'S-PER' is not allowed in the IOB1 scheme (only B- and I- prefixes; use scheme 'BIOES' or 'auto')`,
    );
  });

  it('rejects bytes that are not UTF-8, naming the line', async () => {
    const f = write('latin1.conll', Buffer.concat([Buffer.from('a O\nb O\nM'), Buffer.from([0xfc]), Buffer.from('ller B-PER\n')]));
    await rejectsWith(readConll(f), `${f}:3:2: invalid UTF-8 byte sequence at byte 2 of the line (the file must be UTF-8 encoded)`);
  });

  it('streams a generated file of ~200,000 tokens', async () => {
    const types = ['PER', 'LOC', 'ORG', 'MISC'];
    const parts: string[] = ['-DOCSTART- -X- -X- O\n\n'];
    let tokens = 0;
    let sentences = 0;
    let line = 2;
    let lastSentenceLine = 0;
    let entities = 0;
    while (tokens < 200_000) {
      lastSentenceLine = line + 1;
      for (let i = 0; i < 20; i++) {
        const type = types[(sentences + Math.floor(i / 5)) % types.length];
        const tag = i % 5 === 1 ? `B-${type}` : i % 5 === 2 ? `I-${type}` : 'O';
        if (tag.startsWith('B-')) entities++;
        parts.push(`w${tokens} NN I-NP ${tag}\n`);
        tokens++;
        line++;
      }
      parts.push('\n');
      line++;
      sentences++;
      if (sentences % 1000 === 0) {
        parts.push('-DOCSTART- -X- -X- O\n\n');
        line += 2;
      }
    }
    const f = write('big.conll', parts.join(''));
    assert.ok(fs.statSync(f).size > 1_000_000);
    const r = await readConll(f);
    assert.equal(r.tokens, tokens);
    assert.equal(r.sentences.length, sentences);
    assert.equal(r.documents, 1 + Math.floor(sentences / 1000));
    assert.equal(r.scheme, 'IOB2');
    const last = r.sentences[r.sentences.length - 1];
    assert.equal(last.line, lastSentenceLine);
    assert.equal(last.words[0], `w${tokens - 20}`);
    assert.equal(last.words[19], `w${tokens - 1}`);
    assert.equal(
      r.sentences.reduce((n, s) => n + s.tags.filter((t) => t.startsWith('B-')).length, 0),
      entities,
    );
    // Every word carries its own index, so no token was lost or duplicated at chunk boundaries.
    let k = 0;
    for (const s of r.sentences) for (const w of s.words) assert.equal(w, `w${k++}`);

    // A bad byte far into the file (well past the first read chunk) is reported on its line.
    const bad = Buffer.concat([Buffer.from(parts.join('')), Buffer.from([0xc3, 0x28]), Buffer.from(' O\n')]);
    const fb = write('big-bad.conll', bad);
    await rejectsWith(readConll(fb), `${fb}:${line + 1}:1: invalid UTF-8 byte sequence at byte 1 of the line (the file must be UTF-8 encoded)`);
  });
});

describe('detectScheme / normalizeTags', () => {
  it('detects the scheme', () => {
    assert.equal(detectScheme([['O', 'B-PER', 'I-PER'], ['B-LOC']]), 'IOB2');
    assert.equal(detectScheme([['O', 'I-PER']]), 'IOB1');
    assert.equal(detectScheme([['I-PER']]), 'IOB1');
    assert.equal(detectScheme([['B-PER', 'I-LOC']]), 'IOB1');
    assert.equal(detectScheme([['I-PER'], ['S-LOC']]), 'BIOES');
    assert.equal(detectScheme([['B-PER', 'E-PER']]), 'BIOES');
    assert.equal(detectScheme([['O', 'O'], []]), 'IOB2');
  });

  it('normalizes to IOB2 without touching valid IOB2', () => {
    assert.deepEqual(normalizeTags(['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC'], 'IOB2'), ['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC']);
    assert.deepEqual(normalizeTags(['I-PER', 'I-PER', 'B-PER', 'I-LOC', 'O', 'I-MISC'], 'IOB1'), ['B-PER', 'I-PER', 'B-PER', 'B-LOC', 'O', 'B-MISC']);
    assert.deepEqual(normalizeTags(['S-PER', 'B-ORG', 'I-ORG', 'E-ORG', 'S-ORG', 'O'], 'BIOES'), ['B-PER', 'B-ORG', 'I-ORG', 'I-ORG', 'B-ORG', 'O']);
    const input = ['I-PER'];
    normalizeTags(input, 'IOB1');
    assert.deepEqual(input, ['I-PER'], 'does not mutate');
  });

  it('rejects tags the scheme does not allow', () => {
    assert.throws(() => normalizeTags(['O', 'E-PER'], 'IOB2'), /token 2: tag 'E-PER' is not allowed in the IOB2 scheme/);
    assert.throws(() => normalizeTags(['PER'], 'BIOES'), /token 1: invalid tag 'PER'/);
  });
});

describe('readJsonl', () => {
  it('reads one object per line, skips blank lines, stringifies numeric labels', async () => {
    const f = write(
      'data.jsonl',
      ['{"text": "great movie", "label": "pos"}', '', '   ', '{"text": "awful", "label": 0, "id": 7}', '{"label": 1.5, "text": "meh, \\"fine\\""}'].join('\n') +
        '\n',
    );
    const r = await readJsonl(f);
    assert.deepEqual(r, [
      { text: 'great movie', label: 'pos', file: f, line: 1 },
      { text: 'awful', label: '0', file: f, line: 4 },
      { text: 'meh, "fine"', label: '1.5', file: f, line: 5 },
    ]);
  });

  it('uses custom field names; tolerates a BOM, CRLF and a missing final newline', async () => {
    const f = write('custom.jsonl', '\uFEFF{"sentence": "a", "y": "x"}\r\n{"sentence": "b", "y": "z"}');
    const r = await readJsonl(f, { textField: 'sentence', labelField: 'y' });
    assert.deepEqual(
      r.map((e) => [e.text, e.label, e.line]),
      [
        ['a', 'x', 1],
        ['b', 'z', 2],
      ],
    );
  });

  it('rejects invalid JSON with line and column', async () => {
    const f = write('bad.jsonl', '{"text": "a", "label": "x"}\n{"text": "b", "label": }\n');
    const e = await rejectsWith(readJsonl(f), new RegExp(`^${escapeRe(f)}:2(:\\d+)?: invalid JSON: `));
    assert.equal(e.line, 2);
    // V8 reports the offset for most syntax errors; it becomes the 1-based column.
    const g = write('bad2.jsonl', '{"text": "a" "label": 1}\n');
    const e2 = await rejectsWith(readJsonl(g), new RegExp(`^${escapeRe(g)}:1(:14)?: invalid JSON: `));
    if (/position/.test(e2.message)) assert.equal(e2.column, 14);
  });

  it('rejects non-objects, missing fields, non-string or empty text and bad labels', async () => {
    const cases: [string, string][] = [
      ['[1, 2]', 'expected a JSON object, found an array'],
      ['"text"', 'expected a JSON object, found a string'],
      ['{"label": "x", "id": 1}', "missing field 'text' (fields found: 'label', 'id')"],
      ['{"text": "a"}', "missing field 'label' (fields found: 'text')"],
      ['{"text": 42, "label": "x"}', "field 'text' must be a string, found a number"],
      ['{"text": null, "label": "x"}', "field 'text' must be a string, found null"],
      ['{"text": "  ", "label": "x"}', "field 'text' is empty"],
      ['{"text": "a", "label": true}', "field 'label' must be a string or a number, found a boolean"],
      ['{"text": "a", "label": ""}', "field 'label' is empty"],
    ];
    for (const [line, message] of cases) {
      const f = write('case.jsonl', `{"text": "ok", "label": "x"}\n\n${line}\n`);
      await rejectsWith(readJsonl(f), `${f}:3: ${message}`);
    }
  });

  it('rejects missing, empty, blank-only and non-UTF-8 files', async () => {
    const missing = path.join(DIR, 'nope.jsonl');
    await rejectsWith(readJsonl(missing), `${missing}: file not found`);
    const empty = write('empty.jsonl', '');
    await rejectsWith(readJsonl(empty), `${empty}: file is empty`);
    const blank = write('blank.jsonl', '\n\n  \n');
    await rejectsWith(readJsonl(blank), `${blank}: no examples found (only blank lines)`);
    const latin = write(
      'latin.jsonl',
      Buffer.concat([Buffer.from('{"text": "a", "label": "x"}\n{"text": "caf'), Buffer.from([0xe9]), Buffer.from('", "label": "x"}\n')]),
    );
    await rejectsWith(readJsonl(latin), `${latin}:2:14: invalid UTF-8 byte sequence at byte 14 of the line (the file must be UTF-8 encoded)`);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('readCsv', () => {
  it('reads a header row and records; line is where each record starts', async () => {
    const f = write(
      'data.csv',
      [
        'id,text,label',
        '1,"Hello, world",greeting',
        '2,"a ""quoted"" word",quote',
        '3,"line one',
        'line two, still text',
        'line three",multi',
        '',
        '4,plain,simple',
      ].join('\n') + '\n',
    );
    const r = await readCsv(f);
    assert.deepEqual(r, [
      { text: 'Hello, world', label: 'greeting', file: f, line: 2 },
      { text: 'a "quoted" word', label: 'quote', file: f, line: 3 },
      { text: 'line one\nline two, still text\nline three', label: 'multi', file: f, line: 4 },
      { text: 'plain', label: 'simple', file: f, line: 8 },
    ]);
  });

  it('handles CRLF, a BOM, blank lines before the header and no final newline', async () => {
    const f = write('crlf.csv', '\uFEFF\r\ntext,label\r\n"x\r\ny",a\r\n\r\nz,b');
    const r = await readCsv(f);
    assert.deepEqual(
      r.map((e) => [e.text, e.label, e.line]),
      [
        ['x\ny', 'a', 3],
        ['z', 'b', 6],
      ],
    );
  });

  it('uses custom column names and delimiters', async () => {
    const semi = write('semi.csv', 'label;sentence\npos;"a; b"\nneg;c\n');
    const r = await readCsv(semi, { delimiter: ';', textField: 'sentence' });
    assert.deepEqual(
      r.map((e) => [e.text, e.label]),
      [
        ['a; b', 'pos'],
        ['c', 'neg'],
      ],
    );
    const tsv = write('data.tsv', 'text\tlabel\thello there\t1\n'.replace('\thello', '\nhello'));
    const t = await readCsv(tsv, { delimiter: '\t' });
    assert.deepEqual(
      t.map((e) => [e.text, e.label, e.line]),
      [['hello there', '1', 2]],
    );
  });

  it('rejects a missing header column, listing the columns found', async () => {
    const f = write('nolabel.csv', '\nsentence,category\na,b\n');
    await rejectsWith(readCsv(f), `${f}:2: missing column 'text' in the header (columns found: 'sentence', 'category')`);
    await rejectsWith(readCsv(f, { textField: 'sentence' }), `${f}:2: missing column 'label' in the header (columns found: 'sentence', 'category')`);
  });

  it('rejects records with an inconsistent number of fields', async () => {
    const f = write('cols.csv', 'text,label\n"a,\nb",x\nc,y,z\n');
    await rejectsWith(readCsv(f), `${f}:4: found 3 fields, expected 2 (as in the header on line 1)`);
    const short = write('short.csv', 'text,label\nonly\n');
    await rejectsWith(readCsv(short), `${short}:2: found 1 field, expected 2 (as in the header on line 1)`);
  });

  it('rejects empty text and empty labels', async () => {
    const f = write('emptytext.csv', 'text,label\na,x\n" ",y\n');
    await rejectsWith(readCsv(f), `${f}:3: column 'text' is empty`);
    const g = write('emptylabel.csv', 'text,label\na,\n');
    await rejectsWith(readCsv(g), `${g}:2: column 'label' is empty`);
  });

  it('rejects an unclosed quote with its line', async () => {
    const f = write('quote.csv', 'text,label\na,x\n"never closed,y\n');
    const e = await rejectsWith(readCsv(f), new RegExp(`^${escapeRe(f)}:3: invalid CSV: Quote Not Closed`));
    assert.equal(e.line, 3);
  });

  it('rejects missing, empty, header-only and non-UTF-8 files', async () => {
    const missing = path.join(DIR, 'nope.csv');
    await rejectsWith(readCsv(missing), `${missing}: file not found`);
    const empty = write('empty.csv', '');
    await rejectsWith(readCsv(empty), `${empty}: file is empty`);
    const header = write('header.csv', 'text,label\n');
    await rejectsWith(readCsv(header), `${header}: no examples found (only a header row)`);
    const latin = write('latin.csv', Buffer.concat([Buffer.from('text,label\na,x\n'), Buffer.from([0xff]), Buffer.from(',y\n')]));
    await rejectsWith(readCsv(latin), `${latin}:3:1: invalid UTF-8 byte sequence at byte 1 of the line (the file must be UTF-8 encoded)`);
  });
});

describe('seededShuffle / splitBySeed', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);

  it('shuffles deterministically without mutating', () => {
    const copy = items.slice();
    const a = seededShuffle(items, 42);
    const b = seededShuffle(items, 42);
    assert.deepEqual(a, b);
    assert.deepEqual(items, copy);
    assert.notDeepEqual(a, items);
    assert.notDeepEqual(seededShuffle(items, 43), a);
    assert.deepEqual(
      a.slice().sort((x, y) => x - y),
      items,
    );
    assert.deepEqual(seededShuffle([], 1), []);
    assert.deepEqual(seededShuffle(['x'], 1), ['x']);
  });

  it('puts every position within reach (no fixed points across seeds)', () => {
    const firsts = new Set<number>();
    for (let seed = 0; seed < 200; seed++) firsts.add(seededShuffle([0, 1, 2, 3, 4], seed)[0]);
    assert.deepEqual([...firsts].sort(), [0, 1, 2, 3, 4]);
  });

  it('splits with the expected sizes, deterministically, covering every item once', () => {
    const s = splitBySeed(items, 0.1, 7);
    assert.equal(s.validation.length, 10);
    assert.equal(s.train.length, 90);
    assert.deepEqual(splitBySeed(items, 0.1, 7), s);
    assert.deepEqual(
      [...s.train, ...s.validation].sort((x, y) => x - y),
      items,
    );
    assert.equal(splitBySeed(items, 0.25, 1).validation.length, 25);
    // Clamped so that each side keeps at least one item.
    assert.deepEqual(lengths(splitBySeed([1, 2, 3], 0.01, 1)), [2, 1]);
    assert.deepEqual(lengths(splitBySeed([1, 2, 3], 0.99, 1)), [1, 2]);
    assert.deepEqual(lengths(splitBySeed([1, 2], 0.5, 1)), [1, 1]);
  });

  it('rejects ratios outside (0, 1) and too few items', () => {
    for (const ratio of [0, 1, -0.1, 1.5, Number.NaN]) assert.throws(() => splitBySeed(items, ratio, 1), RangeError);
    assert.throws(() => splitBySeed([1], 0.5, 1), /cannot split 1 example into train and validation: need at least 2/);
    assert.throws(() => splitBySeed([], 0.5, 1), RangeError);
  });
});

function lengths(s: { train: unknown[]; validation: unknown[] }): [number, number] {
  return [s.train.length, s.validation.length];
}

describe('labels', () => {
  it('orders NER tags: O first, then B-/I- grouped by sorted entity type', () => {
    assert.deepEqual(discoverLabels(['I-PER', 'O', 'B-MISC', 'B-LOC', 'I-LOC', 'B-PER', 'O', 'I-MISC', 'B-ORG', 'I-ORG', 'B-PER']), [
      'O',
      'B-LOC',
      'I-LOC',
      'B-MISC',
      'I-MISC',
      'B-ORG',
      'I-ORG',
      'B-PER',
      'I-PER',
    ]);
    assert.deepEqual(discoverLabels(['S-PER', 'E-PER', 'B-PER', 'I-PER', 'O']), ['O', 'B-PER', 'I-PER', 'E-PER', 'S-PER']);
  });

  it('sorts other labels (numerically when all are integers)', () => {
    assert.deepEqual(discoverLabels(['pos', 'neg', 'neutral', 'neg']), ['neg', 'neutral', 'pos']);
    assert.deepEqual(discoverLabels(['10', '2', '1', '0', '2']), ['0', '1', '2', '10']);
    assert.deepEqual(discoverLabels(['O', 'other']), ['O', 'other']);
    assert.deepEqual(discoverLabels([]), []);
  });

  it('lists entity types', () => {
    assert.deepEqual(entityTypes(['O', 'I-PER', 'B-LOC', 'B-PER', 'I-MISC']), ['LOC', 'MISC', 'PER']);
    assert.deepEqual(entityTypes(['O']), []);
  });

  it('checkLabelsKnown names the file, line and label of the first unknown label', () => {
    const known = new Set(['O', 'B-PER', 'I-PER', 'B-LOC']);
    checkLabelsKnown(known, [{ label: 'B-PER', file: 'dev.conll', line: 1 }]);
    throwsWith(
      () =>
        checkLabelsKnown(known, [
          { label: 'O', file: 'dev.conll', line: 3 },
          { label: 'B-EVENT', file: 'dev.conll', line: 12 },
          { label: 'B-DATE', file: 'dev.conll', line: 14 },
        ]),
      "dev.conll:12: label 'B-EVENT' never appears in the training data (known: 'O', 'B-LOC', 'B-PER', 'I-PER')",
    );
  });

  it('works end to end: labels from a training file checked against a validation file', async () => {
    const train = await readConll(write('train.conll', 'a B-PER\nb I-PER\n\nc B-LOC\nd O\n'));
    const dev = await readConll(write('dev.conll', 'a B-PER\n\nx O\ny B-EVENT\n'));
    const labels = discoverLabels(train.sentences.flatMap((s) => s.tags));
    assert.deepEqual(labels, ['O', 'B-LOC', 'B-PER', 'I-PER']);
    const devTags = dev.sentences.flatMap((s) => s.tags.map((label, i) => ({ label, file: s.file, line: s.tokenLines[i] })));
    throwsWith(
      () => checkLabelsKnown(new Set(labels), devTags),
      `${dev.sentences[0].file}:4: label 'B-EVENT' never appears in the training data (known: 'O', 'B-LOC', 'B-PER', 'I-PER')`,
    );
  });
});
