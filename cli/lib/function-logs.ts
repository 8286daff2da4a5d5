/**
 * The in-process functions' logs during `tunevault run` and `demo`: to a file under
 * .tunevault/logs/, so that their JSON lines never land between the progress lines; the path
 * is printed when the command fails.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface FunctionLog {
  path: string;
  stream: fs.WriteStream;
  close(): Promise<void>;
}

export function openFunctionLog(
  command: string,
  dir = path.join(process.cwd(), '.tunevault', 'logs'),
): FunctionLog {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const file = path.join(dir, `${command}-${stamp}-${process.pid}.log`);
  const stream = fs.createWriteStream(file, { flags: 'a' });
  return {
    path: file,
    stream,
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.closed) resolve();
        else stream.end(() => resolve());
      }),
  };
}

/** How a failure points at the log: relative to the working directory when that is shorter. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}
