/**
 * @module hostPath volumes: the `type` checks of upstream's hostPath plugin
 * (DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice), with
 * its error messages. An unset or empty type skips the check.
 */
import { closeSync, mkdirSync, openSync, statSync, type Stats } from "node:fs";

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Checks (and for the *OrCreate types, creates) `path`; throws with upstream's message. */
export function checkHostPathType(path: string, type: string | undefined): void {
  if (!type) return;
  let st = stat(path);
  const fail = (what: string): never => {
    throw new Error(`hostPath type check failed: ${path} is not ${what}`);
  };
  switch (type) {
    case "DirectoryOrCreate":
      if (!st) {
        mkdirSync(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!st.isDirectory()) fail("a directory");
      return;
    case "Directory":
      if (!st?.isDirectory()) fail("a directory");
      return;
    case "FileOrCreate":
      if (!st) {
        closeSync(openSync(path, "a", 0o644));
        st = stat(path);
        return;
      }
      if (!st.isFile()) fail("a file");
      return;
    case "File":
      if (!st?.isFile()) fail("a file");
      return;
    case "Socket":
      if (!st?.isSocket()) fail("a socket file");
      return;
    case "CharDevice":
      if (!st?.isCharacterDevice()) fail("a character device");
      return;
    case "BlockDevice":
      if (!st?.isBlockDevice()) fail("a block device");
      return;
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}
