import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellLanguage, claimsBlankNotebook, kernelProviders, NEW_NOTEBOOK_METADATA, notebookLanguage, prefersThisKernel } from '../../host/languages';

void test('affordance-ts runs as TypeScript; other languages are not run', () => {
  assert.equal(cellLanguage('affordance-ts'), 'typescript');
  assert.equal(cellLanguage('typescript'), 'typescript');
  assert.equal(cellLanguage('javascript'), 'javascript');
  assert.equal(cellLanguage('python'), undefined);
});

void test('the notebook language is found in each place VS Code and Jupyter keep it', () => {
  const ts = { kernelspec: { name: 'tslab', language: 'typescript' } };
  assert.equal(notebookLanguage(ts), 'typescript');
  assert.equal(notebookLanguage({ metadata: ts }), 'typescript');
  assert.equal(notebookLanguage({ custom: { metadata: ts } }), 'typescript');
  assert.equal(notebookLanguage({ language_info: { name: 'Python' } }), 'python');
  assert.equal(notebookLanguage(undefined), undefined);
});

void test('affinity: preferred for TypeScript metadata or TypeScript cells, not for Python or JS-only notebooks', () => {
  assert.equal(prefersThisKernel({ metadata: { kernelspec: { language: 'typescript' } } }, []), true);
  assert.equal(prefersThisKernel({ metadata: { kernelspec: { name: 'affordance-lab' } } }, []), true);
  assert.equal(prefersThisKernel({}, ['markdown', 'affordance-ts']), true);
  assert.equal(prefersThisKernel({ metadata: { language_info: { name: 'python' } } }, ['python']), false);
  assert.equal(prefersThisKernel({}, ['javascript']), false);
});

void test('a blank untitled notebook is claimed only where no other extension provides Jupyter kernels', () => {
  // What VS Code's "New Jupyter Notebook" creates: one empty Python cell, no kernel in the metadata.
  const fresh = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 2 };
  const empty = [{ code: true, text: '' }];
  assert.equal(claimsBlankNotebook('untitled', fresh, empty, []), true);
  assert.equal(claimsBlankNotebook('untitled', fresh, [{ code: true, text: '  \n' }, { code: true, text: '' }], []), true);
  // Saved, typed into, with markdown, with a kernel of its own, or with another kernel provider installed: left alone.
  assert.equal(claimsBlankNotebook('file', fresh, empty, []), false);
  assert.equal(claimsBlankNotebook('untitled', fresh, [{ code: true, text: 'import numpy' }], []), false);
  assert.equal(claimsBlankNotebook('untitled', fresh, [{ code: false, text: '' }], []), false);
  assert.equal(claimsBlankNotebook('untitled', fresh, [], []), false);
  assert.equal(claimsBlankNotebook('untitled', { metadata: { kernelspec: { name: 'python3' } } }, empty, []), false);
  assert.equal(claimsBlankNotebook('untitled', { metadata: { language_info: { name: 'python' } } }, empty, []), false);
  assert.equal(claimsBlankNotebook('untitled', fresh, empty, ['ms-toolsai.jupyter']), false);
  // A notebook this extension creates declares its kernel (so it is preselected, not claimed).
  assert.equal(claimsBlankNotebook('untitled', { metadata: NEW_NOTEBOOK_METADATA }, empty, []), false);
  assert.equal(prefersThisKernel({ metadata: NEW_NOTEBOOK_METADATA }, []), true);
});

void test('kernel providers: other installed extensions that activate on Jupyter notebooks', () => {
  const all = [
    { id: 'affordance-lab.affordance-lab', builtin: false, activationEvents: ['onNotebook:jupyter-notebook'] },
    { id: 'vscode.ipynb', builtin: true, activationEvents: ['onNotebook:jupyter-notebook'] },
    { id: 'ms-toolsai.jupyter', builtin: false, activationEvents: ['onNotebook:jupyter-notebook', 'onCommand:jupyter.createnewnotebook'] },
    { id: 'some.notebooks', builtin: false, activationEvents: ['onNotebook:*'] },
    { id: 'some.theme', builtin: false, activationEvents: [] },
    { id: 'some.other', builtin: false, activationEvents: ['onNotebook:interactive', 'onLanguage:python'] },
  ];
  assert.deepEqual(kernelProviders(all, 'Affordance-Lab.affordance-lab'), ['ms-toolsai.jupyter', 'some.notebooks']);
  assert.deepEqual(kernelProviders(all.slice(0, 2), 'affordance-lab.affordance-lab'), []);
});
