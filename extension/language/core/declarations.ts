import ts from 'typescript';

/**
 * How a top-level name reaches later cells:
 * - `variable`: a const/let/var binding; later cells see it through `declare const|let|var name: typeof …`,
 *   so an assignment in a later cell to an earlier `let` stays legal, as it is in the kernel's session;
 * - `alias`: everything else (imports, functions, classes, enums, interfaces, type aliases, namespaces);
 *   later cells import it, which carries its value, its type meaning, generics and overloads.
 */
export type DeclarationKind = 'variable' | 'alias';

/** One top-level name declared by a cell. Offsets are in the cell's own text. */
export interface TopLevelDeclaration {
  readonly name: string;
  readonly kind: DeclarationKind;
  /** `const`, `let` or `var` for variables (the keyword later cells redeclare it with). */
  readonly keyword?: 'const' | 'let' | 'var';
  /** Start and end of the declared identifier in the cell's text. */
  readonly start: number;
  readonly end: number;
  /** Declared with an `export` modifier in the cell itself (then the cell already exports it). */
  readonly exported: boolean;
  /**
   * A variable declared without a type and without a value (`let x;`): its type evolves with the
   * assignments of later cells, which TypeScript cannot follow across modules, so later cells see `any`.
   */
  readonly untyped?: boolean;
}

function hasExportModifier(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function bindingNames(name: ts.BindingName, out: ts.Identifier[]): void {
  if (ts.isIdentifier(name)) {
    out.push(name);
    return;
  }
  for (const element of name.elements) {
    if (!ts.isOmittedExpression(element)) bindingNames(element.name, out);
  }
}

/**
 * The names a cell declares at its top level, in source order, the way the kernel's session keeps them:
 * variable statements (destructuring included), functions, classes, enums, interfaces, type aliases,
 * namespaces and every kind of import binding. A name declared twice keeps its last declaration.
 */
export function collectTopLevelDeclarations(sourceFile: ts.SourceFile): TopLevelDeclaration[] {
  const found: TopLevelDeclaration[] = [];
  const add = (id: ts.Identifier, kind: DeclarationKind, exported: boolean, keyword?: 'const' | 'let' | 'var', untyped?: boolean): void => {
    found.push({ name: id.text, kind, keyword, start: id.getStart(sourceFile), end: id.getEnd(), exported, ...(untyped ? { untyped } : {}) });
  };
  const addVariables = (list: ts.VariableDeclarationList, exported: boolean): void => {
    const flags = list.flags;
    // `using` declarations are block-scoped constants as far as later cells are concerned.
    const keyword = flags & (ts.NodeFlags.Const | ts.NodeFlags.Using | ts.NodeFlags.AwaitUsing) ? 'const' : flags & ts.NodeFlags.Let ? 'let' : 'var';
    for (const decl of list.declarations) {
      const ids: ts.Identifier[] = [];
      bindingNames(decl.name, ids);
      const untyped = ts.isIdentifier(decl.name) && !decl.type && !decl.initializer;
      for (const id of ids) add(id, 'variable', exported, keyword, untyped);
    }
  };
  /** `var` inside top-level blocks and loops belongs to the session too (not inside functions or classes). */
  const hoistedVars = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isVariableDeclarationList(node)) {
      if (!(node.flags & ts.NodeFlags.BlockScoped)) addVariables(node, false);
      return;
    }
    ts.forEachChild(node, hoistedVars);
  };
  for (const statement of sourceFile.statements) {
    const exported = hasExportModifier(statement);
    if (ts.isVariableStatement(statement)) {
      addVariables(statement.declarationList, exported);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) &&
      statement.name
    ) {
      add(statement.name, 'alias', exported);
    } else if (ts.isModuleDeclaration(statement) && ts.isIdentifier(statement.name)) {
      add(statement.name, 'alias', exported);
    } else if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) add(clause.name, 'alias', false);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) add(bindings.name, 'alias', false);
      else if (bindings) for (const el of bindings.elements) add(el.name, 'alias', false);
    } else if (ts.isImportEqualsDeclaration(statement)) {
      add(statement.name, 'alias', exported);
    } else if (!ts.isExpressionStatement(statement) && !ts.isExportDeclaration(statement) && !ts.isExportAssignment(statement)) {
      hoistedVars(statement);
    }
  }
  return found;
}

/**
 * One entry per distinct name: the last declaration wins its position; a name declared both as a
 * variable and as something else (`const X` and `type X`) travels as an alias, which carries both meanings.
 */
export function summarizeDeclarations(declarations: readonly TopLevelDeclaration[]): Map<string, TopLevelDeclaration> {
  const byName = new Map<string, TopLevelDeclaration>();
  for (const d of declarations) {
    const previous = byName.get(d.name);
    if (previous && previous.kind !== d.kind) byName.set(d.name, { ...d, kind: 'alias', keyword: undefined, exported: previous.exported || d.exported });
    else byName.set(d.name, previous ? { ...d, exported: previous.exported || d.exported } : d);
  }
  return byName;
}
