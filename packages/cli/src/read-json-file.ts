import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from './cli-io';

/**
 * Reads and parses the JSON file an option names. A missing or unreadable file, an empty file
 * and invalid JSON are one-line `UsageError`s naming the option, the file and what it should hold.
 */
export async function readJsonFile(cwd: string, option: string, file: string, shape: string): Promise<unknown> {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (error as Error).message;
    throw new UsageError(`${option} ${file}: ${why} (${path}); give a JSON file holding ${shape}`);
  }
  if (text.trim() === '') throw new UsageError(`${option} ${file}: the file is empty; it should hold ${shape}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${option} ${file}: invalid JSON (${(error as Error).message}); it should hold ${shape}`);
  }
}

/** A parsed value that must be a JSON object, else a `UsageError` naming the option and file. */
export function expectObject(option: string, file: string, value: unknown, shape: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(
      `${option} ${file}: expected ${shape}, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}
