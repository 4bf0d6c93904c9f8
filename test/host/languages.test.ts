import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellLanguage, notebookLanguage, prefersThisKernel } from '../../host/languages';

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
