// Regenerate expected.json (and grapheme_break.json) with Twilio's own calculator.
//
//   mkdir -p /tmp/segcalc && cd /tmp/segcalc && npm install sms-segments-calculator@1.3.0
//   node /path/to/tests/data/segments/make_expected.mjs /tmp/segcalc
//
// The argument (or $SEGCALC_DIR, or the current directory) is where node_modules lives.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(process.argv[2] || process.env.SEGCALC_DIR || process.cwd());
const require = createRequire(path.join(packageDir, 'package.json'));
const { SegmentedMessage } = require('sms-segments-calculator');
const UnicodeToGsm = require('sms-segments-calculator/dist/libs/UnicodeToGSM.js').default;
const SmartEncodingMap = require('sms-segments-calculator/dist/libs/SmartEncodingMap.js').default;
const calculatorVersion = require('sms-segments-calculator/package.json').version;
const splitterVersion = require('grapheme-splitter/package.json').version;

function measure(text, smartEncoding) {
  const message = new SegmentedMessage(text, 'auto', smartEncoding);
  const unitBits = message.encodingName === 'GSM-7' ? 7 : 16;
  return {
    encoding: message.encodingName,
    segments: message.segmentsCount,
    characters: message.numberOfCharacters,
    units: message.messageSize / unitBits,
    unicode_scalars: message.numberOfUnicodeScalars,
    message_bits: message.messageSize,
    total_bits: message.totalSize,
    segment_bits: message.segments.map((segment) => segment.messageSizeInBits()),
    non_gsm: message.getNonGsmCharacters(),
    // Grapheme clusters: how many, and where the ones of more than one code point are.
    graphemes: message.graphemes.length,
    multi_graphemes: message.graphemes
      .map((grapheme, index) => [index, grapheme])
      .filter(([, grapheme]) => [...grapheme].length > 1),
  };
}

const corpus = JSON.parse(fs.readFileSync(path.join(here, 'corpus.json'), 'utf8'));
const results = {};
for (const { id, text } of corpus.texts) {
  if (id in results) throw new Error(`duplicate id ${id}`);
  const smart = measure(text, true);
  const smartText = new SegmentedMessage(text, 'auto', true).graphemes.join('');
  // The text after Smart Encoding, when it changed anything.
  if (smartText !== text) smart.text = smartText;
  results[id] = { plain: measure(text, false), smart };
}
const expected = {
  generated_by: `sms-segments-calculator ${calculatorVersion} (grapheme-splitter ${splitterVersion})`,
  results,
};
// One line per text and variant keeps the file small and its diffs readable.
const lines = Object.entries(results).map(
  ([id, { plain, smart }]) =>
    `  ${JSON.stringify(id)}: {\n    "plain": ${JSON.stringify(plain)},\n    "smart": ${JSON.stringify(smart)}\n  }`,
);
// The library's two tables: septets per GSM-7 character, and Smart Encoding replacements.
const gsm7 = Object.fromEntries(
  Object.entries(UnicodeToGsm).map(([code, septets]) => [String.fromCharCode(code), septets.length]),
);
fs.writeFileSync(
  path.join(here, 'expected.json'),
  `{"generated_by": ${JSON.stringify(expected.generated_by)},
"gsm7_septets": ${JSON.stringify(gsm7)},
"smart_encoding": ${JSON.stringify(SmartEncodingMap)},
"results": {
${lines.join(',\n')}
}}
`,
);

// The grapheme break property of every code point, from grapheme-splitter's own (private)
// function, so the Python port of its table can be checked code point by code point.
const splitterSource = fs.readFileSync(require.resolve('grapheme-splitter'), 'utf8');
const start = splitterSource.indexOf('function getGraphemeBreakProperty');
const end = splitterSource.indexOf('return Other;', start) + 'return Other;'.length;
const names = [
  'CR', 'LF', 'Control', 'Extend', 'Regional_Indicator', 'SpacingMark', 'L', 'V', 'T', 'LV',
  'LVT', 'Other', 'Prepend', 'E_Base', 'E_Modifier', 'ZWJ', 'Glue_After_Zwj', 'E_Base_GAZ',
];
const property = new Function(
  `${names.map((name, value) => `var ${name} = ${value};`).join(' ')}
  ${splitterSource.slice(start, end)} }
  return getGraphemeBreakProperty;`,
)();
const ranges = [];
for (let code = 0; code <= 0x10ffff; code += 1) {
  const name = names[property(code)];
  const last = ranges[ranges.length - 1];
  if (last && last[2] === name && last[1] === code - 1) last[1] = code;
  else ranges.push([code, code, name]);
}
const others = ranges.filter((range) => range[2] !== 'Other');
fs.writeFileSync(
  path.join(here, 'grapheme_break.json'),
  `{"generated_by": "grapheme-splitter ${splitterVersion}", "ranges": [\n${others
    .map((range) => JSON.stringify(range))
    .join(',\n')}\n]}\n`,
);
console.log(`${corpus.texts.length} texts -> expected.json; ${others.length} ranges -> grapheme_break.json`);
