// Generates the bundled example data sets (deterministic; the output is committed):
//   examples/ner/data/{train,dev,test}.txt          CoNLL format (word TAB tag, -DOCSTART-, blank
//                                                    line between sentences), PER/ORG/LOC/MISC in IOB2
//   examples/textcls/data/{train,dev,test}.jsonl    {"text", "label"} news-topic classification
// Dev and test use names (people, organisations, places) that never appear in training, so the
// scores measure generalisation from context and word shape rather than memorised names.
//
//   node scripts/make_examples.mjs

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = rng(2003);
const pick = (xs) => xs[Math.floor(r() * xs.length)];

// Names are made from syllables, so there are thousands of them: most appear once or twice in
// training (a vocabulary with min_frequency 2 spells them in characters, as a model must for the
// unseen names of dev and test). Training and held-out names never overlap.
const SYL = [
  'ka',
  'ro',
  'li',
  'mar',
  'ten',
  'sa',
  'vi',
  'do',
  'ne',
  'ba',
  'tor',
  'el',
  'mi',
  'ra',
  'shi',
  'go',
  'lan',
  'pe',
  'zu',
  'fa',
  'ber',
  'tis',
  'no',
  'ha',
  'ri',
  'ven',
  'co',
  'lu',
  'dra',
  'mo',
  'si',
  'an',
  'ky',
  'os',
  'wen',
  'ja',
];
const word = (parts) => {
  const w = parts.join('');
  return w[0].toUpperCase() + w.slice(1);
};
const seen = new Set();
function makeNames(n, minSyl, maxSyl, suffixes = ['']) {
  const out = [];
  while (out.length < n) {
    const k = minSyl + Math.floor(r() * (maxSyl - minSyl + 1));
    const name = word([...Array.from({ length: k }, () => pick(SYL)), pick(suffixes)]);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(name);
  }
  return out;
}
/** A training pool and a disjoint held-out pool. */
function pools(n, minSyl, maxSyl, suffixes) {
  return { train: makeNames(n, minSyl, maxSyl, suffixes), held: makeNames(Math.ceil(n / 4), minSyl, maxSyl, suffixes) };
}
const FIRST = pools(1500, 2, 3);
const LAST = pools(1500, 2, 3, ['', 'son', 'ez', 'ova', 'ski', 'er']);
const ORG_STEM = pools(800, 2, 3);
const ORG_SUFFIX = [
  'Bank',
  'Motors',
  'Group',
  'Energy',
  'Airlines',
  'Foods',
  'Capital',
  'Systems',
  'Pharma',
  'Telecom',
  'Holdings',
  'Labs',
  'Media',
  'Insurance',
  'Corp',
  'Partners',
  'Shipping',
  'Steel',
  'Rail',
  'Mining',
];
const CITY = pools(800, 2, 3, ['', 'ville', 'burg', 'ton', 'stad', 'pur', 'grad']);
const COUNTRY = pools(300, 2, 3, ['ia', 'land', 'stan', 'ar']);
const NATION = pools(300, 2, 2, ['ian', 'ese', 'ish']);
const EVENT = ['Cup', 'Games', 'Open', 'Prize', 'Championship', 'Festival', 'Grand Prix'];

function entity(type, split) {
  const names = (pool) => (split === 'train' ? pool.train : pool.held);
  switch (type) {
    case 'PER':
      return r() < 0.8 ? [pick(names(FIRST)), pick(names(LAST))] : [pick(names(LAST))];
    case 'LAST':
      return [pick(names(LAST))];
    case 'ORG':
      return r() < 0.85 ? [pick(names(ORG_STEM)), pick(ORG_SUFFIX)] : [pick(names(ORG_STEM)), pick(names(ORG_STEM)), pick(ORG_SUFFIX)];
    case 'LOC':
      return [pick(r() < 0.6 ? names(CITY) : names(COUNTRY))];
    case 'MISC':
      return r() < 0.6 ? [pick(names(NATION))] : [pick(names(CITY)), ...pick(EVENT).split(' ')];
  }
  throw new Error(type);
}

// Templates: {PER}, {ORG}, {LOC}, {MISC} are entities; other words are plain context.
const TEMPLATES = [
  '{PER} , the chief executive of {ORG} , arrived in {LOC} on Monday .',
  'Shares in {ORG} rose 4 percent after the company reported strong sales in {LOC} .',
  '{PER} said the {MISC} team would travel to {LOC} next week .',
  'The {ORG} announced a new office in {LOC} .',
  'Police in {LOC} said {PER} was questioned on Tuesday .',
  '{PER} won the {MISC} after beating {PER} in the final .',
  'Officials from {ORG} met {PER} in {LOC} to discuss the deal .',
  'The {MISC} striker {PER} scored twice as {ORG} beat the visitors .',
  '{LOC} and {LOC} signed a trade agreement on Friday .',
  '" We are very pleased , " {PER} told reporters in {LOC} .',
  '{ORG} shares fell after {PER} resigned .',
  'The talks between {ORG} and {ORG} ended without agreement .',
  'Thousands of fans gathered in {LOC} for the {MISC} .',
  '{PER} , a spokesman for {ORG} , declined to comment .',
  'Rain delayed the match in {LOC} for two hours .',
  'The government of {LOC} said it would support the {MISC} bid .',
  '{PER} joined {ORG} in 2019 from a rival firm .',
  'Analysts expect {ORG} to report higher profits this year .',
  'The {MISC} minister visited {LOC} and met {PER} .',
  'Prices in {LOC} rose 2 percent in March , the {ORG} said .',
  'It was the first time a {MISC} player had won in {LOC} .',
  '{PER} was born in {LOC} and studied in {LOC} .',
  'A court in {LOC} fined {ORG} for breaking safety rules .',
  'The market closed higher on Thursday .',
  'Mr {LAST} said the plan would cost more than expected .',
  'Ms {LAST} of {ORG} will lead the new team .',
  '{PER} and {PER} will meet again in {LOC} next month .',
  'The {ORG} report was published on Wednesday .',
];

function sentence(split) {
  const words = [];
  const tags = [];
  for (const tok of pick(TEMPLATES).split(' ')) {
    const m = /^\{(\w+)\}$/.exec(tok);
    if (!m) {
      words.push(tok);
      tags.push('O');
      continue;
    }
    const type = m[1] === 'LAST' ? 'PER' : m[1];
    entity(m[1], split).forEach((w, i) => {
      words.push(w);
      tags.push(`${i === 0 ? 'B' : 'I'}-${type}`);
    });
  }
  return { words, tags };
}

function writeConll(file, n, split) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    if (i % 20 === 0) lines.push('-DOCSTART-\tO', '');
    const s = sentence(split);
    s.words.forEach((w, k) => lines.push(`${w}\t${s.tags[k]}`));
    lines.push('');
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n'));
}

const TOPICS = {
  sports: [
    '{MISC} champion {PER} won again in {LOC} .',
    'The match in {LOC} ended in a draw after extra time .',
    '{PER} scored the winning goal in the final minute .',
    'The team will play in the {MISC} next season .',
    'Fans celebrated the victory late into the night .',
  ],
  business: [
    '{ORG} reported higher quarterly profits .',
    'Shares in {ORG} fell after the merger talks failed .',
    'The bank raised interest rates by a quarter point .',
    'Investors expect strong growth in {LOC} this year .',
    '{PER} was named chief executive of {ORG} .',
  ],
  politics: [
    'The parliament in {LOC} passed the new budget .',
    '{PER} called for early elections .',
    'The minister resigned after the vote in {LOC} .',
    'Leaders met in {LOC} to discuss the treaty .',
    'The opposition criticised the government plan .',
  ],
  weather: [
    'Heavy rain is expected in {LOC} on Sunday .',
    'Temperatures will fall below zero overnight .',
    'Storms closed roads across {LOC} .',
    'A heat wave hit the south of {LOC} this week .',
    'Forecasters warned of strong winds along the coast .',
  ],
};

function writeJsonl(file, n, split) {
  const lines = [];
  const labels = Object.keys(TOPICS);
  for (let i = 0; i < n; i++) {
    const label = labels[i % labels.length];
    const parts = [];
    for (let k = 0; k < 2; k++) {
      const t = pick(TOPICS[label])
        .split(' ')
        .flatMap((tok) => {
          const m = /^\{(\w+)\}$/.exec(tok);
          return m ? entity(m[1], split) : [tok];
        });
      parts.push(t.join(' '));
    }
    lines.push(JSON.stringify({ text: parts.join(' '), label }));
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

writeConll(path.join(ROOT, 'examples/ner/data/train.txt'), 4000, 'train');
writeConll(path.join(ROOT, 'examples/ner/data/dev.txt'), 400, 'held');
writeConll(path.join(ROOT, 'examples/ner/data/test.txt'), 400, 'held');
writeJsonl(path.join(ROOT, 'examples/textcls/data/train.jsonl'), 1200, 'train');
writeJsonl(path.join(ROOT, 'examples/textcls/data/dev.jsonl'), 200, 'held');
writeJsonl(path.join(ROOT, 'examples/textcls/data/test.jsonl'), 200, 'held');
console.log('wrote examples/ner/data and examples/textcls/data');
