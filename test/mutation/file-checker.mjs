/**
 * A Stryker checker, opt-in (`-- --checkers typescript-file`): a mutant is a compile error when the
 * mutated file itself no longer type-checks, asked of one TypeScript language service kept for
 * the whole run (the file's text swapped in and out; the rest of the program reused).
 *
 * Why not Stryker's own `typescript` checker: it rebuilds the program in watch mode and re-checks
 * every file whose inputs changed. A mutant that changes an exported type (a literal in a detector
 * table, an object in a zod schema) made it re-check every importer, with the AWS SDK's types
 * behind them: 2 s a mutant in `shared/config.ts`, 5–10 s in a guard detector (2 cores, loaded),
 * the slowest stage of a run by far (hours for `functions/`). Here: 0.3–0.5 s and about 1 s.
 *
 * What it cannot see: a mutant whose only type error is in another file (an importer that relied
 * on the changed type). That mutant is run against the tests like any other, so it may count as
 * killed or survived where Stryker's checker would have dropped it. `compare-checkers.mjs` counts
 * how often: 12 of 300 sampled compile errors of the `steps` part (2026-12-07), so it is not the
 * default (test/mutation/README.md).
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

/** The language service over `tsconfigFile`, and a check of one mutant of one file. */
export function createFileChecker(tsconfigFile, cwd = process.cwd()) {
  const configPath = path.resolve(cwd, tsconfigFile);
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, OVERRIDES, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(`${tsconfigFile}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    },
  });
  if (parsed === undefined) throw new Error(`${tsconfigFile}: cannot be read`);
  const fileNames = new Set(parsed.fileNames.map((f) => path.resolve(f)));
  /** The text of a file while one of its mutants is checked, and each file's version. */
  const swapped = new Map();
  const versions = new Map();
  const service = ts.createLanguageService(
    {
      getScriptFileNames: () => [...fileNames],
      getScriptVersion: (f) => String(versions.get(path.resolve(f)) ?? 0),
      getScriptSnapshot: (f) => {
        const text = swapped.get(path.resolve(f)) ?? ts.sys.readFile(f);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
      },
      getCurrentDirectory: () => cwd,
      getCompilationSettings: () => parsed.options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
    },
    ts.createDocumentRegistry(),
  );
  const errorsIn = (file) =>
    [...service.getSyntacticDiagnostics(file), ...service.getSemanticDiagnostics(file)].filter(
      (d) => d.category === ts.DiagnosticCategory.Error,
    );
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
      return format(
        service
          .getProgram()
          .getSourceFiles()
          .filter((sf) => fileNames.has(path.resolve(sf.fileName)))
          .flatMap((sf) => errorsIn(sf.fileName)),
      );
    },
    /** The mutated file's errors as text, or undefined when it compiles (or is not in the project). */
    check({ fileName, location, replacement }) {
      const file = path.resolve(cwd, fileName);
      if (!fileNames.has(file)) return undefined;
      const original = ts.sys.readFile(file) ?? '';
      const source = ts.createSourceFile(file, original, ts.ScriptTarget.Latest);
      const offset = (p) => source.getPositionOfLineAndCharacter(p.line, p.column);
      swapped.set(
        file,
        `${original.slice(0, offset(location.start))}${replacement}${original.slice(offset(location.end))}`,
      );
      bump(file);
      try {
        const errors = errorsIn(file);
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
