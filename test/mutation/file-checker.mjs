/**
 * The Stryker checker of every part (`typescript-file`, stryker.base.json): a mutant is a compile
 * error when the program no longer type-checks, asked of one TypeScript language service kept for
 * the whole run (the mutated file's text swapped in and out; the rest of the program reused).
 * The mutated file is checked; then, only if what it exports changed (its declaration output), the
 * files that import it, directly or not, nearest first, until one has an error.
 *
 * Why not Stryker's own `typescript` checker: it rebuilds the program in watch mode and re-checks
 * every file whose inputs changed. A mutant that changes an exported type (a literal in a detector
 * table, an object in a zod schema) made it re-check every importer, with the AWS SDK's types
 * behind them: 2 s a mutant in `shared/config.ts`, 5–10 s in a guard detector (2 cores, loaded),
 * the slowest stage of a run by far. Here: about 0.2 s on a quiet machine, 0.4 s beside a run.
 * guard-records took 19 min of Stryker for its first 89 mutants with Stryker's checker, 3 min for
 * 128 with this one.
 *
 * It agrees with Stryker's: `compare-checkers.mjs` re-checked 1,302 mutants of the `steps`,
 * guard-scan, guard-text and guard-runtime reports, which Stryker's checker had sorted (2026-12-07):
 * 1,302 agree. (Checking the mutated file alone, as this checker first did, let 12 of 300 of the
 * `steps` compile errors through: their error is in an importer.)
 */
import path from 'node:path';
import ts from 'typescript';

/** Stryker's own overrides (typescript-checker): code-quality options a mutant may break harmlessly. */
const OVERRIDES = {
  allowUnreachableCode: true,
  noUnusedLocals: false,
  noUnusedParameters: false,
  noEmit: true,
  incremental: false,
  composite: false,
};

/**
 * Each file's text as first read, kept for the whole run. Stryker runs its checkers in the project
 * folder, not its sandbox, so a source file edited during a run would otherwise be read again
 * after a mutant's check, and the next mutant's positions (Stryker's, in the text it instrumented)
 * would land in the edited text (in session 12, a crash: a column past the end of a line).
 */
function textReader() {
  const texts = new Map();
  return (f) => {
    const file = path.resolve(f);
    if (!texts.has(file)) texts.set(file, ts.sys.readFile(file));
    return texts.get(file);
  };
}

/** The host a language service needs, over `parsed`'s files, with `swapped` texts and `versions`. */
function serviceHost(parsed, fileNames, cwd, swapped, versions, read) {
  return {
    getScriptFileNames: () => [...fileNames],
    getScriptVersion: (f) => String(versions.get(path.resolve(f)) ?? 0),
    getScriptSnapshot: (f) => {
      const text = swapped.get(path.resolve(f)) ?? read(f);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => cwd,
    getCompilationSettings: () => parsed.options,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: ts.sys.fileExists,
    readFile: read,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
}

/** Each project file → the project files that import it (static imports and re-exports). */
function importersOf(fileNames, options) {
  const importers = new Map();
  for (const file of fileNames) {
    const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file) ?? '', true, true);
    for (const { fileName } of importedFiles) {
      const resolved = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule;
      const target = resolved && path.resolve(resolved.resolvedFileName);
      if (!target || !fileNames.has(target)) continue;
      if (!importers.has(target)) importers.set(target, new Set());
      importers.get(target).add(file);
    }
  }
  return importers;
}

/**
 * The language service over `tsconfigFile`, and a check of one mutant of one file.
 *
 * It also finds the errors a mutant makes in other files, as Stryker's checker does, at a fraction
 * of its cost: when the mutated file compiles, its declaration output (the types it exports,
 * inferred ones included: all an importer can see of it) is compared with the unmutated file's.
 * Only when it differs are the files importing it, directly or not, checked.
 */
export function createFileChecker(tsconfigFile, cwd = process.cwd()) {
  const configPath = path.resolve(cwd, tsconfigFile);
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, OVERRIDES, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(`${tsconfigFile}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    },
  });
  if (parsed === undefined) throw new Error(`${tsconfigFile}: cannot be read`);
  // Declarations are emitted (in memory) only to compare what a file exports; the diagnostics are
  // the program's own, without the declaration emit's (which `tsc` with this config never reports).
  parsed.options = { ...parsed.options, declaration: true, emitDeclarationOnly: true, noEmit: false };
  const fileNames = new Set(parsed.fileNames.map((f) => path.resolve(f)));
  /** The text of a file while one of its mutants is checked, and each file's version. */
  const swapped = new Map();
  const versions = new Map();
  const read = textReader();
  const service = ts.createLanguageService(
    serviceHost(parsed, fileNames, cwd, swapped, versions, read),
    ts.createDocumentRegistry(),
  );
  // The unmutated program, never swapped: the declarations each mutant is compared with. (A
  // registry of its own: one shared with the swapping service would hold one version of each file.)
  const base = ts.createLanguageService(
    serviceHost(parsed, fileNames, cwd, new Map(), new Map(), read),
    ts.createDocumentRegistry(),
  );
  const imports = importersOf(fileNames, parsed.options);
  const baseDeclarations = new Map();
  const declarationsOf = (ls, file) =>
    ls
      .getEmitOutput(file, true)
      .outputFiles.map((o) => o.text)
      .join('\n');
  const baseDeclarationsOf = (file) => {
    if (!baseDeclarations.has(file)) baseDeclarations.set(file, declarationsOf(base, file));
    return baseDeclarations.get(file);
  };
  const errorsIn = (file) => {
    const program = service.getProgram();
    const sf = program.getSourceFile(file);
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].filter(
      (d) => d.category === ts.DiagnosticCategory.Error,
    );
  };
  /**
   * Errors in the files that see the mutated `file`: none when what it exports is unchanged; else
   * every file importing it, directly or not (an importer that names a changed type keeps its own
   * declarations word for word, yet its importers see the change), nearest first.
   */
  const errorsInImporters = (file) => {
    if (declarationsOf(service, file) === baseDeclarationsOf(file)) return [];
    const seen = new Set([file]);
    const queue = [file];
    while (queue.length > 0) {
      for (const importer of imports.get(queue.shift()) ?? []) {
        if (seen.has(importer)) continue;
        seen.add(importer);
        const errors = errorsIn(importer);
        if (errors.length > 0) return errors;
        queue.push(importer);
      }
    }
    return [];
  };
  const format = (diagnostics) =>
    ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => cwd,
      getNewLine: () => '\n',
    });
  const bump = (file) => versions.set(file, (versions.get(file) ?? 0) + 1);

  return {
    /** Whether the project type-checks unmutated (Stryker's checker refuses to start otherwise). */
    baselineErrors() {
      return format([...fileNames].flatMap((f) => errorsIn(f)));
    },
    /** The mutant's errors as text, or undefined when it compiles (or is not in the project). */
    check({ fileName, location, replacement }) {
      const file = path.resolve(cwd, fileName);
      if (!fileNames.has(file)) return undefined;
      const original = read(file) ?? '';
      const source = ts.createSourceFile(file, original, ts.ScriptTarget.Latest);
      const offset = (p) => source.getPositionOfLineAndCharacter(p.line, p.column);
      swapped.set(
        file,
        `${original.slice(0, offset(location.start))}${replacement}${original.slice(offset(location.end))}`,
      );
      bump(file);
      try {
        let errors = errorsIn(file);
        if (errors.length === 0) errors = errorsInImporters(file);
        return errors.length > 0 ? format(errors) : undefined;
      } finally {
        swapped.delete(file);
        bump(file);
      }
    },
  };
}

class FileTypescriptChecker {
  static inject = ['options', 'logger'];

  constructor(options, logger) {
    this.tsconfigFile = options.tsconfigFile;
    this.logger = logger;
  }

  async init() {
    this.checker = createFileChecker(this.tsconfigFile);
    const errors = this.checker.baselineErrors();
    if (errors) throw new Error(`Typescript error(s) found in the unmutated project:\n${errors}`);
  }

  async check(mutants) {
    const result = {};
    for (const mutant of mutants) {
      const reason = this.checker.check(mutant);
      result[mutant.id] = reason === undefined ? { status: 'passed' } : { status: 'compileError', reason };
    }
    return result;
  }
}

export const strykerPlugins = [
  { kind: 'Checker', name: 'typescript-file', injectableClass: FileTypescriptChecker },
];
