/**
 * @module String order as Go sorts strings: by UTF-8 bytes, which is code-point order (not
 * JavaScript's UTF-16 order). Upstream prints sorted selectors and keys this way.
 */

/** Compares two strings in Go's (code-point) order. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
