import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeCells, readNotebook, serializeNotebook, splitLines, toIpynbOutput, UsageError, validateNotebook } from '../../cli/ipynb';
import { MIME } from '../../kernel/protocol';

import { OutputText } from '../../kernel/client/outputText';

function buffer(text: string, max = 1000): OutputText {
  const b = new OutputText(max);
  b.append(text);
  return b;
}

void test('splitLines keeps newlines and drops the trailing empty line, as Jupyter stores text', () => {
  assert.deepEqual(splitLines('a\n\nb\n'), ['a\n', '\n', 'b\n']);
  assert.deepEqual(splitLines('a'), ['a']);
  assert.deepEqual(splitLines(''), []);
});

void test('outputs in the form VS Code writes them', () => {
  assert.deepEqual(toIpynbOutput({ kind: 'stream', name: 'stdout', buffer: buffer('x\ny\n') }), { output_type: 'stream', name: 'stdout', text: ['x\n', 'y\n'] });
  assert.deepEqual(toIpynbOutput({ kind: 'error', error: { name: 'TypeError', message: 'bad', stack: 'TypeError: bad\n    at Cell 2:1:5' } }), {
    output_type: 'error',
    ename: 'TypeError',
    evalue: 'bad',
    traceback: ['TypeError: bad\n', '    at Cell 2:1:5'],
  });
  const payload = { version: 1, maps: [{ name: 'Hands' }] };
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
  assert.deepEqual(toIpynbOutput({ kind: 'display', displayId: 'd', bundle: { [MIME.heatmap]: payload, 'image/png': png, 'text/markdown': '# t\nrow' } }), {
    output_type: 'display_data',
    metadata: {},
    data: { [MIME.heatmap]: payload, 'image/png': png, 'text/markdown': ['# t\n', 'row'] },
  });
});

void test('stream text is written as shown: carriage returns applied, truncation notice kept', () => {
  assert.deepEqual(toIpynbOutput({ kind: 'stream', name: 'stderr', buffer: buffer('10%\r50%\r100%\n') }).text, ['100%\n']);
  const long = toIpynbOutput({ kind: 'stream', name: 'stdout', buffer: buffer('a'.repeat(50), 10) }).text as string[];
  assert.equal(long[0], 'aaaaaaaaaa\n');
  assert.match(long[1], /^\[output truncated/);
});

void test('serialization: keys sorted recursively, one-space indent, trailing newline', () => {
  const text = serializeNotebook({ nbformat: 4, cells: [{ source: 'x', cell_type: 'code', metadata: { b: 1, a: 2 } }], metadata: {} });
  assert.equal(text, '{\n "cells": [\n  {\n   "cell_type": "code",\n   "metadata": {\n    "a": 2,\n    "b": 1\n   },\n   "source": "x"\n  }\n ],\n "metadata": {},\n "nbformat": 4\n}\n');
});

void test('cell languages: VS Code cell metadata, then the notebook language, then TypeScript', () => {
  const nb = validateNotebook(
    {
      nbformat: 4,
      metadata: { kernelspec: { language: 'javascript', name: 'x' } },
      cells: [
        { cell_type: 'markdown', source: '# hi', metadata: {} },
        { cell_type: 'code', source: ['let a = 1\n', 'a'], metadata: {} },
        { cell_type: 'code', source: 'let b: number = 2', metadata: { vscode: { languageId: 'affordance-ts' } } },
      ],
    },
    'n.ipynb',
  );
  assert.deepEqual(codeCells(nb, 'n.ipynb').map((c) => [c.index, c.number, c.language, c.code]), [
    [1, 2, 'javascript', 'let a = 1\na'],
    [2, 3, 'typescript', 'let b: number = 2'],
  ]);
  const plain = validateNotebook({ nbformat: 4, cells: [{ cell_type: 'code', source: '1' }] }, 'p.ipynb');
  assert.equal(codeCells(plain, 'p.ipynb')[0].language, 'typescript');
});

void test('a Python cell is refused before anything runs', () => {
  const nb = validateNotebook({ nbformat: 4, metadata: { language_info: { name: 'python' } }, cells: [{ cell_type: 'code', source: 'print(1)' }] }, 'py.ipynb');
  assert.throws(() => codeCells(nb, 'py.ipynb'), /py.ipynb: cell 1 is python; expected typescript or javascript/);
});

void test('bad files are named with what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'al-ipynb-'));
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  mkdirSync(join(dir, 'folder.ipynb'));
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.ipynb'), /missing.ipynb: no such file/],
    [join(dir, 'folder.ipynb'), /folder.ipynb: is a folder/],
    [write('broken.ipynb', '{"cells": ['), /broken.ipynb: not valid JSON/],
    [write('array.ipynb', '[]'), /array.ipynb: not a notebook \(expected a JSON object with "cells", got an array\)/],
    [write('nocells.ipynb', '{"nbformat": 4}'), /nocells.ipynb: not a notebook \("cells" is missing/],
    [write('v3.ipynb', '{"nbformat": 3, "cells": []}'), /v3.ipynb: nbformat is 3; expected 4/],
    [write('badsrc.ipynb', '{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}'), /badsrc.ipynb: cell 1: "source" must be a string or an array of strings/],
  ];
  for (const [file, message] of cases) {
    assert.throws(() => readNotebook(file), (e: Error) => e instanceof UsageError && message.test(e.message), file);
  }
});
