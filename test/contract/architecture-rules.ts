/**
 * The import rules of ARCHITECTURE.md: each import (static, `export … from`, `import()`,
 * `require()`) is resolved to the file it names and judged against RULES. A rule changes here
 * and in ARCHITECTURE.md together; architecture.test.ts applies them to the whole project.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');

export interface Import {
  /** The importing file, relative to the project (posix). */
  file: string;
  spec: string;
  /** The project file it resolves to, or undefined for a package or a node: builtin. */
  target: string | undefined;
  typeOnly: boolean;
  line: number;
}

interface Rule {
  rule: string;
  applies: (file: string) => boolean;
  /** A violation's reason, or undefined when the import is allowed. */
  check: (imp: Import) => string | undefined;
}

const under = (file: string | undefined, ...dirs: string[]) =>
  file !== undefined && dirs.some((d) => file === d || file.startsWith(`${d}/`));
const isSdk = (imp: Import) => imp.target === undefined && /^@aws-sdk\//.test(imp.spec);
const stepOf = (file: string) => /^functions\/([^/]+)\//.exec(file)?.[1];
const TOOLING = ['test', 'bench', 'scripts'];
/** The commands that start or describe the embedded AWS: they are its user interface. */
const EMBEDDED_AWS_COMMANDS = [
  'cli/commands/demo.ts',
  'cli/commands/local.ts',
  'cli/commands/run.ts',
  'cli/commands/preflight.ts',
];
/** preflight checks an account before any deploy, with reads no step makes (IAM, Service Quotas, foundation models). */
const SDK_COMMANDS = ['cli/commands/preflight.ts'];

export const RULES: Rule[] = [
  {
    rule: 'functions/ imports functions/shared/ and its own step folder only',
    applies: (f) => under(f, 'functions'),
    check: (imp) => {
      if (imp.target === undefined || under(imp.target, 'functions/shared')) return undefined;
      const step = stepOf(imp.file);
      if (step && step !== 'shared' && under(imp.target, `functions/${step}`)) return undefined;
      return under(imp.target, 'functions') ? 'another step’s folder' : `${imp.target.split('/')[0]}/`;
    },
  },
  {
    rule: 'only functions/shared/aws/ imports the AWS SDK among functions/',
    applies: (f) => under(f, 'functions') && !under(f, 'functions/shared/aws'),
    check: (imp) =>
      isSdk(imp) ? 'the AWS SDK: add or extend a gateway in functions/shared/aws/' : undefined,
  },
  {
    rule: 'a step core takes its gateways as ports: from functions/shared/aws/ it imports types only (and errors.ts, which has no SDK)',
    applies: (f) => /^functions\/[^/]+\/core\.ts$/.test(f),
    check: (imp) =>
      under(imp.target, 'functions/shared/aws') &&
      !imp.typeOnly &&
      imp.target !== 'functions/shared/aws/errors.ts'
        ? 'a gateway as a value: take it as a port'
        : undefined,
  },
  {
    rule: 'local/ imports functions/ only for the model catalog, and never cli/ or the tooling',
    applies: (f) => under(f, 'local'),
    check: (imp) => {
      if (under(imp.target, 'functions') && !under(imp.target, 'functions/shared/catalog'))
        return 'production code other than the model catalog';
      return under(imp.target, 'cli', ...TOOLING) ? `${imp.target?.split('/')[0]}/` : undefined;
    },
  },
  {
    rule: 'cli/ imports functions/shared/ and step cores (never a handler), and never the tooling',
    applies: (f) => under(f, 'cli'),
    check: (imp) => {
      if (imp.target && /^functions\/[^/]+\/handler\.ts$/.test(imp.target)) return 'a step handler';
      return under(imp.target, 'statemachines', ...TOOLING) ? `${imp.target?.split('/')[0]}/` : undefined;
    },
  },
  {
    rule: 'cli/ reaches local/ only from the commands that start or describe the embedded AWS',
    applies: (f) => under(f, 'cli') && !EMBEDDED_AWS_COMMANDS.includes(f),
    check: (imp) => (under(imp.target, 'local') ? 'the embedded AWS' : undefined),
  },
  {
    rule: 'cli/ commands use the gateways or cli/lib/ (which builds the SDK clients), preflight aside',
    applies: (f) => under(f, 'cli/commands') && !SDK_COMMANDS.includes(f),
    check: (imp) => (isSdk(imp) ? 'the AWS SDK' : undefined),
  },
  {
    rule: 'statemachines/ and examples/ import nothing of the project outside themselves',
    applies: (f) => under(f, 'statemachines', 'examples'),
    check: (imp) =>
      imp.target !== undefined && imp.target.split('/')[0] !== imp.file.split('/')[0]
        ? imp.target
        : undefined,
  },
];

export const CHECKED_ROOMS = ['functions', 'local', 'cli', 'statemachines', 'examples'];

export function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(rel);
    return /\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

function resolve(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.posix.join(path.posix.dirname(file), spec);
  const tries = ['', '.ts', '.js', '.json', '/index.ts', '/index.js'].map((ext) => `${base}${ext}`);
  const found = tries.find(
    (t) => fs.existsSync(path.join(ROOT, t)) && fs.statSync(path.join(ROOT, t)).isFile(),
  );
  if (!found) throw new Error(`${file}: cannot resolve '${spec}'`);
  return found;
}

export function importsOf(file: string, text = fs.readFileSync(path.join(ROOT, file), 'utf8')): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    found.push({
      file,
      spec: literal.text,
      target: resolve(file, literal.text),
      typeOnly,
      line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const allNamedTypes =
        !clause?.name && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0
          ? bindings.elements.every((e) => e.isTypeOnly)
          : false;
      add(node, node.moduleSpecifier, clause?.isTypeOnly === true || allNamedTypes);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function violationsOf(imports: Import[]): string[] {
  return imports.flatMap((imp) =>
    RULES.filter((r) => r.applies(imp.file)).flatMap((r) => {
      const why = r.check(imp);
      return why ? [`${imp.file}:${imp.line} imports '${imp.spec}' (${why}) — rule: ${r.rule}`] : [];
    }),
  );
}
