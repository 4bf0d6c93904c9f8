/** The part of eslint-scope's API the cell rewrite uses (the package ships no types). */
declare module 'eslint-scope' {
  import type { Node } from 'acorn';
  interface Reference {
    identifier: Node & { name: string };
    resolved: Variable | null;
    isWrite(): boolean;
  }
  interface Variable {
    name: string;
    references: Reference[];
    defs: { type: string; node: Node }[];
  }
  interface Scope {
    type: string;
    variables: Variable[];
    through: Reference[];
    childScopes: Scope[];
  }
  interface ScopeManager {
    globalScope: Scope;
    scopes: Scope[];
  }
  export function analyze(ast: unknown, options: { ecmaVersion: number; sourceType: 'module' | 'script'; childVisitorKeys?: unknown; fallback?: string }): ScopeManager;
}
