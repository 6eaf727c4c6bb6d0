// Evaluation metrics: entity level (seqeval rules) and token/label level (scikit-learn rules).
// Reference values come from the libraries' documented examples (cited per test) or are derived by hand
// from seqeval's scheme rules (explained in comments).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entityReport, extractEntities, formatEntityReport, type Entity, type PRF } from '../src/trainer/metrics/seqeval';
import { accuracy, classificationReport, confusionMatrix, formatClassificationReport } from '../src/trainer/metrics/report';
import { formatFixed } from '../src/trainer/metrics/common';

const close = (actual: number, expected: number, msg?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${msg ?? ''} expected ${expected}, got ${actual}`);

function prf(actual: PRF, p: number, r: number, f: number, s: number, what = '') {
  close(actual.precision, p, `${what} precision`);
  close(actual.recall, r, `${what} recall`);
  close(actual.f1, f, `${what} f1`);
  assert.equal(actual.support, s, `${what} support`);
}

const spans = (es: Entity[]) => es.map((e) => `${e.type}@${e.sentence}:${e.start}-${e.end}`);

describe('seqeval default mode (conlleval-compatible)', () => {
  // seqeval README, "Usage": classification_report / f1_score on this pair gives f1 0.50,
  // MISC 0.00/0.00/0.00 support 1, PER 1.00/1.00/1.00 support 1, all averages 0.50 support 2.
  const yTrue = [
    ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const yPred = [
    ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];

  it('README example: per type and averages', () => {
    const r = entityReport(yTrue, yPred);
    assert.deepEqual(Object.keys(r.perType), ['MISC', 'PER']);
    prf(r.perType.MISC, 0, 0, 0, 1, 'MISC');
    prf(r.perType.PER, 1, 1, 1, 1, 'PER');
    prf(r.micro, 0.5, 0.5, 0.5, 2, 'micro');
    prf(r.macro, 0.5, 0.5, 0.5, 2, 'macro');
    prf(r.weighted, 0.5, 0.5, 0.5, 2, 'weighted');
  });

  it('README example: text report is byte-identical to seqeval.metrics.classification_report', () => {
    // Text as printed in seqeval's README / v1.classification_report docstring.
    const expected =
      '              precision    recall  f1-score   support\n' +
      '\n' +
      '        MISC       0.00      0.00      0.00         1\n' +
      '         PER       1.00      1.00      1.00         1\n' +
      '\n' +
      '   micro avg       0.50      0.50      0.50         2\n' +
      '   macro avg       0.50      0.50      0.50         2\n' +
      'weighted avg       0.50      0.50      0.50         2\n';
    assert.equal(formatEntityReport(entityReport(yTrue, yPred)), expected);
  });

  it('f1_score docstring example: micro 0.6667, macro 0.75, weighted 0.6667, per type [0.5, 1.0]', () => {
    // seqeval.metrics.f1_score docstring.
    const t = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'O', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const p = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const r = entityReport(t, p);
    close(r.micro.f1, 0.6666666666666666);
    close(r.macro.f1, 0.75);
    close(r.weighted.f1, 0.6666666666666666);
    close(r.perType.MISC.f1, 0.5);
    close(r.perType.PER.f1, 1);
  });

  it('get_entities docstring example (offsets become end-exclusive, per sentence)', () => {
    // seqeval get_entities(['B-PER','I-PER','O','B-LOC']) == [('PER',0,1), ('LOC',3,3)] (inclusive ends).
    assert.deepEqual(extractEntities([['B-PER', 'I-PER', 'O', 'B-LOC']]), [
      { type: 'PER', start: 0, end: 2, sentence: 0 },
      { type: 'LOC', start: 3, end: 4, sentence: 0 },
    ]);
  });

  it('conlleval chunking: I- after O starts a chunk, a type change ends one, E-/S- close chunks', () => {
    assert.deepEqual(spans(extractEntities([['I-PER', 'I-PER', 'I-LOC', 'O', 'B-ORG', 'E-ORG', 'S-MISC', 'I-MISC']])), [
      'PER@0:0-2',
      'LOC@0:2-3',
      'ORG@0:4-6',
      'MISC@0:6-7',
      'MISC@0:7-8',
    ]);
    // Sentences never share a chunk: each one is followed by an implicit 'O'.
    assert.deepEqual(
      spans(
        extractEntities([
          ['O', 'B-PER'],
          ['I-PER', 'O'],
        ]),
      ),
      ['PER@0:1-2', 'PER@1:0-1'],
    );
    // A bare 'B' has type '_'.
    assert.deepEqual(spans(extractEntities([['B', 'I', 'O']])), ['_@0:0-2']);
  });

  it('a type only in predictions is reported with support 0', () => {
    // gold PER; pred PER + LOC. LOC: precision 0/1 = 0, recall 0/0 -> zeroDivision.
    const gold = [['B-PER', 'O']];
    const pred = [['B-PER', 'B-LOC']];
    const r = entityReport(gold, pred);
    assert.deepEqual(Object.keys(r.perType), ['LOC', 'PER']);
    prf(r.perType.LOC, 0, 0, 0, 0, 'LOC');
    prf(r.perType.PER, 1, 1, 1, 1, 'PER');
    prf(r.micro, 0.5, 1, 2 / 3, 1, 'micro');
    prf(r.macro, 0.5, 0.5, 0.5, 1, 'macro');
    prf(r.weighted, 1, 1, 1, 1, 'weighted');
    const r1 = entityReport(gold, pred, { zeroDivision: 1 });
    prf(r1.perType.LOC, 0, 1, 0, 0, 'LOC zd=1'); // F1 from p=0, r=1 is 0
    prf(r1.macro, 0.5, 1, 0.5, 1, 'macro zd=1');
  });

  it('empty predictions: zero division gives 0 by default, zeroDivision 1 on request', () => {
    const gold = [['B-PER', 'I-PER', 'O'], ['B-LOC']];
    const pred = [['O', 'O', 'O'], ['O']];
    const r = entityReport(gold, pred);
    prf(r.perType.PER, 0, 0, 0, 1);
    prf(r.perType.LOC, 0, 0, 0, 1);
    prf(r.micro, 0, 0, 0, 2);
    prf(r.macro, 0, 0, 0, 2);
    prf(r.weighted, 0, 0, 0, 2);
    const r1 = entityReport(gold, pred, { zeroDivision: 1 });
    prf(r1.perType.PER, 1, 0, 0, 1);
    prf(r1.micro, 1, 0, 0, 2);
    prf(r1.weighted, 1, 0, 0, 2);
  });

  it('no entities anywhere: micro/weighted are zeroDivision, macro is NaN (numpy mean of nothing)', () => {
    const r = entityReport([['O', 'O']], [['O', 'O']]);
    assert.deepEqual(r.perType, {});
    prf(r.micro, 0, 0, 0, 0);
    prf(r.weighted, 0, 0, 0, 0);
    assert.ok(Number.isNaN(r.macro.f1));
    const r1 = entityReport([['O', 'O']], [['O', 'O']], { zeroDivision: 1 });
    prf(r1.micro, 1, 1, 1, 0);
    prf(r1.weighted, 1, 1, 1, 0);
    // seqeval itself cannot print this report (max() of no names); ours falls back to the minimum width.
    assert.match(formatEntityReport(r1), /\n {3}micro avg {7}1\.00 {6}1\.00 {6}1\.00 {9}0\n/);
  });

  it('gold with no entities but predictions: weighted = (0, zeroDivision, 0) as seqeval', () => {
    const r = entityReport([['O']], [['B-PER']], { zeroDivision: 1 });
    prf(r.weighted, 0, 1, 0, 0);
    prf(r.perType.PER, 0, 1, 0, 0);
  });

  it('length mismatches throw and name the sentence and both lengths', () => {
    assert.throws(() => entityReport([['O'], ['O', 'B-PER']], [['O'], ['O']]), /sentence 1: gold has 2 tags but pred has 1/);
    assert.throws(() => entityReport([['O']], [['O'], ['O']]), /different numbers of sentences: 1 vs 2/);
  });
});

describe('seqeval strict mode', () => {
  it('IOB2 docstring example: default f1 1.0, strict f1 0.0', () => {
    // seqeval README, "strict mode": y_true [['B-NP','I-NP','O']], y_pred [['I-NP','I-NP','O']]
    // f1_score(...) == 1.0; f1_score(..., mode='strict', scheme=IOB2) == 0.0
    const t = [['B-NP', 'I-NP', 'O']];
    const p = [['I-NP', 'I-NP', 'O']];
    close(entityReport(t, p).micro.f1, 1);
    close(entityReport(t, p, { mode: 'strict', scheme: 'IOB2' }).micro.f1, 0);
    // IOB2 is the default scheme in strict mode; I- without B- is no entity at all.
    close(entityReport(t, p, { mode: 'strict' }).micro.f1, 0);
    assert.deepEqual(extractEntities(p, { mode: 'strict' }), []);
    assert.deepEqual(extractEntities([['I-NP', 'I-NP', 'O']], { mode: 'strict', scheme: 'IOB2' }), []);
  });

  it('scheme.Tokens docstring example: IOB2 entities with exclusive ends', () => {
    // Tokens(['B-PER','I-PER','O','B-LOC'], IOB2).entities -> PER 0..2, LOC 3..4
    assert.deepEqual(spans(extractEntities([['B-PER', 'I-PER', 'O', 'B-LOC']], { mode: 'strict' })), ['PER@0:0-2', 'LOC@0:3-4']);
    // B-PER then I-LOC: the PER chunk ends (B->I with a different type) and the I-LOC starts nothing.
    assert.deepEqual(spans(extractEntities([['B-PER', 'I-LOC', 'O']], { mode: 'strict' })), ['PER@0:0-1']);
  });

  it('IOB1: B- only starts a chunk right after a chunk of the same type', () => {
    // seqeval.scheme.IOB1 start patterns: O->I, I->I (other type), B->I, I->B (same type), B->B (same type).
    // So in ['O','B-PER','I-PER'] the B-PER (after O) starts nothing; its I-PER starts a chunk (B->I) that
    // the appended O ends (I->O): one PER at [2,3). Default mode sees PER at [1,3).
    // ['O','I-PER','I-PER'] is PER at [1,3) in both modes (O->I starts, I->I same type continues).
    const gold = [['O', 'B-PER', 'I-PER']];
    const pred = [['O', 'I-PER', 'I-PER']];
    assert.deepEqual(spans(extractEntities(gold, { mode: 'strict', scheme: 'IOB1' })), ['PER@0:2-3']);
    assert.deepEqual(spans(extractEntities(gold)), ['PER@0:1-3']);
    assert.deepEqual(spans(extractEntities(pred, { mode: 'strict', scheme: 'IOB1' })), ['PER@0:1-3']);
    close(entityReport(gold, pred).micro.f1, 1);
    close(entityReport(gold, pred, { mode: 'strict', scheme: 'IOB1' }).micro.f1, 0);
  });

  it('IOB1: adjacent chunks split by B-, and a B->B type change is not a valid end', () => {
    // ['I-PER','I-PER','B-PER','I-PER','O','I-LOC']: I-PER starts (O->I), I-PER continues, B-PER is not
    // inside, and I->B is an end pattern: PER [0,2). B-PER after I-PER of the same type starts: PER [2,4),
    // ended by O. I-LOC after O starts: LOC [5,6).
    assert.deepEqual(spans(extractEntities([['I-PER', 'I-PER', 'B-PER', 'I-PER', 'O', 'I-LOC']], { mode: 'strict', scheme: 'IOB1' })), [
      'PER@0:0-2',
      'PER@0:2-4',
      'LOC@0:5-6',
    ]);
    // ['I-PER','B-PER','B-LOC']: PER [0,1) as above; B-PER starts a chunk (I->B same type) but the next
    // token B-LOC is not inside, and B->B with a different type is not an IOB1 end pattern, so that chunk
    // is dropped; B-LOC (after B-PER, different type) starts nothing. Default mode keeps all three.
    const tags = [['I-PER', 'B-PER', 'B-LOC']];
    assert.deepEqual(spans(extractEntities(tags, { mode: 'strict', scheme: 'IOB1' })), ['PER@0:0-1']);
    assert.deepEqual(spans(extractEntities(tags)), ['PER@0:0-1', 'PER@0:1-2', 'LOC@0:2-3']);
  });

  it('IOBES: a chunk must be closed by E- (or be a single S-)', () => {
    // seqeval.scheme.IOBES: starts at B-/S-; inside B->I, B->E, I->I, I->E (same type); a chunk is kept only
    // if its last token is E- or S- (end patterns S->any, E->any).
    // gold ['B-PER','I-PER','E-PER','S-LOC','O'] -> PER [0,3), LOC [3,4).
    // pred ['B-PER','I-PER','I-PER','S-LOC','O'] -> the PER chunk stops before S-LOC with I-PER last: dropped;
    // LOC [3,4). Default mode closes the PER chunk at S-LOC, so it matches gold.
    const gold = [['B-PER', 'I-PER', 'E-PER', 'S-LOC', 'O']];
    const pred = [['B-PER', 'I-PER', 'I-PER', 'S-LOC', 'O']];
    assert.deepEqual(spans(extractEntities(gold, { mode: 'strict', scheme: 'IOBES' })), ['PER@0:0-3', 'LOC@0:3-4']);
    assert.deepEqual(spans(extractEntities(pred, { mode: 'strict', scheme: 'IOBES' })), ['LOC@0:3-4']);
    close(entityReport(gold, pred).micro.f1, 1);
    const r = entityReport(gold, pred, { mode: 'strict', scheme: 'IOBES' });
    prf(r.perType.PER, 0, 0, 0, 1, 'PER');
    prf(r.perType.LOC, 1, 1, 1, 1, 'LOC');
    prf(r.micro, 1, 0.5, 2 / 3, 2, 'micro');
    prf(r.macro, 0.5, 0.5, 0.5, 2, 'macro');
  });

  it('BILOU and IOE2 basics', () => {
    assert.deepEqual(spans(extractEntities([['U-PER', 'B-LOC', 'I-LOC', 'L-LOC', 'B-ORG', 'O']], { mode: 'strict', scheme: 'BILOU' })), [
      'PER@0:0-1',
      'LOC@0:1-4',
    ]);
    assert.deepEqual(spans(extractEntities([['I-PER', 'E-PER', 'E-LOC', 'I-ORG', 'O']], { mode: 'strict', scheme: 'IOE2' })), ['PER@0:0-2', 'LOC@0:2-3']);
  });

  it('invalid tokens for the scheme throw, like seqeval', () => {
    assert.throws(() => extractEntities([['B-PER', 'E-PER']], { mode: 'strict', scheme: 'IOB2' }), /Invalid token.*E-PER/);
    assert.throws(() => extractEntities([['X-PER']], { mode: 'strict' }), /Invalid token.*X-PER/);
  });
});

describe('sklearn-compatible token report', () => {
  // scikit-learn classification_report docstring: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1],
  // target_names = ['class 0', 'class 1', 'class 2'].
  const names = ['class 0', 'class 1', 'class 2'];
  const yTrue = [0, 1, 2, 2, 2].map((i) => names[i]);
  const yPred = [0, 0, 2, 2, 1].map((i) => names[i]);

  it('classification_report docstring example: numbers', () => {
    const r = classificationReport(yTrue, yPred);
    assert.deepEqual(r.labels, names);
    prf(r.perClass['class 0'], 0.5, 1, 2 / 3, 1);
    prf(r.perClass['class 1'], 0, 0, 0, 1);
    prf(r.perClass['class 2'], 1, 2 / 3, 0.8, 3);
    close(r.accuracy, 0.6);
    close(r.micro.f1, 0.6);
    prf(r.macro, 0.5, 5 / 9, (2 / 3 + 0.8) / 3, 5);
    prf(r.weighted, 0.7, 0.6, (2 / 3 + 0.8 * 3) / 5, 5);
  });

  it('classification_report docstring example: text is identical', () => {
    const expected =
      '              precision    recall  f1-score   support\n' +
      '\n' +
      '     class 0       0.50      1.00      0.67         1\n' +
      '     class 1       0.00      0.00      0.00         1\n' +
      '     class 2       1.00      0.67      0.80         3\n' +
      '\n' +
      '    accuracy                           0.60         5\n' +
      '   macro avg       0.50      0.56      0.49         5\n' +
      'weighted avg       0.70      0.60      0.61         5\n';
    assert.equal(formatClassificationReport(classificationReport(yTrue, yPred)), expected);
  });

  it('confusion_matrix docstring examples', () => {
    // y_true = [2, 0, 2, 2, 0, 1], y_pred = [0, 0, 2, 2, 0, 2] -> [[2,0,0],[0,0,1],[1,0,2]]
    const t = [2, 0, 2, 2, 0, 1].map(String);
    const p = [0, 0, 2, 2, 0, 2].map(String);
    assert.deepEqual(confusionMatrix(t, p, ['0', '1', '2']), [
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
    // y_true = ["cat","ant","cat","cat","ant","bird"], y_pred = ["ant","ant","cat","cat","ant","cat"],
    // labels = ["ant","bird","cat"] -> the same matrix.
    assert.deepEqual(confusionMatrix(['cat', 'ant', 'cat', 'cat', 'ant', 'bird'], ['ant', 'ant', 'cat', 'cat', 'ant', 'cat'], ['ant', 'bird', 'cat']), [
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
    assert.throws(() => confusionMatrix(['a', 'b'], ['a', 'c'], ['a', 'b']), /unknown label "c" in pred at index 1/);
    assert.throws(() => confusionMatrix(['a'], ['a', 'b'], ['a', 'b']), /different lengths: 1 vs 2/);
  });

  it('accuracy_score docstring example and length check', () => {
    // accuracy_score([0, 2, 1, 3], [0, 1, 2, 3]) == 0.5
    close(accuracy(['0', '2', '1', '3'], ['0', '1', '2', '3']), 0.5);
    assert.throws(() => accuracy(['a'], []), /different lengths: 1 vs 0/);
    assert.throws(() => classificationReport(['a', 'b'], ['a']), /different lengths: 2 vs 1/);
  });

  it('listed labels: absent ones get support 0 and zeroDivision; micro covers listed labels only', () => {
    const r = classificationReport(['a', 'b'], ['a', 'a'], { labels: ['a', 'b', 'c'] });
    prf(r.perClass.a, 0.5, 1, 2 / 3, 1);
    prf(r.perClass.b, 0, 0, 0, 1);
    prf(r.perClass.c, 0, 0, 0, 0);
    prf(r.macro, 0.5 / 3, 1 / 3, 2 / 9, 2);
    prf(r.weighted, 0.25, 0.5, 1 / 3, 2);
    const r1 = classificationReport(['a', 'b'], ['a', 'a'], { labels: ['a', 'b', 'c'], zeroDivision: 1 });
    prf(r1.perClass.b, 1, 0, 0, 1);
    prf(r1.perClass.c, 1, 1, 1, 0);

    // Labels without 'O': micro over a and b only, printed as "micro avg" (not accuracy).
    const r2 = classificationReport(['a', 'b', 'O', 'O'], ['a', 'O', 'O', 'b'], { labels: ['a', 'b'] });
    prf(r2.micro, 0.5, 0.5, 0.5, 2);
    close(r2.accuracy, 0.5);
    const text = formatClassificationReport(r2);
    assert.match(text, /\n {3}micro avg {7}0\.50 {6}0\.50 {6}0\.50 {9}2\n/);
    assert.doesNotMatch(text, /accuracy/);
  });

  it('empty predictions: every prediction is O', () => {
    const r = classificationReport(['B-PER', 'I-PER', 'O'], ['O', 'O', 'O'], { labels: ['B-PER', 'I-PER'] });
    prf(r.micro, 0, 0, 0, 2);
    prf(r.macro, 0, 0, 0, 2);
    const r1 = classificationReport(['B-PER', 'I-PER', 'O'], ['O', 'O', 'O'], { labels: ['B-PER', 'I-PER'], zeroDivision: 1 });
    prf(r1.micro, 1, 0, 0, 2);
  });
});

describe('Python-compatible number formatting', () => {
  it('rounds exact binary ties half to even like format(x, ".2f")', () => {
    assert.equal(formatFixed(0.125, 2), '0.12'); // Python: '0.12' (toFixed gives '0.13')
    assert.equal(formatFixed(0.375, 2), '0.38');
    assert.equal(formatFixed(2.5, 0), '2');
    assert.equal(formatFixed(0.005, 2), '0.01'); // 0.005 is slightly above 0.005 in binary
    assert.equal(formatFixed(0.015, 2), '0.01'); // ... and 0.015 slightly below
    assert.equal(formatFixed(2 / 3, 4), '0.6667');
    assert.equal(formatFixed(1, 2), '1.00');
    assert.equal(formatFixed(0, 3), '0.000');
    assert.equal(formatFixed(NaN, 2), 'nan');
  });
});
