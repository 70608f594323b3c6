/**
 * Characters removed from any client-supplied display text (file names, titles): C0/C1 controls and DEL, the
 * invisible direction marks and overrides that can make "clip‮4pm.exe" read as "clipexe.mp4" (U+061C, U+200E/F,
 * U+202A–U+202E, U+2066–U+2069), line/paragraph separators and the BOM. Zero-width joiners stay: emoji need them.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** The text with control and bidi-override characters removed, trimmed, cut to at most maxChars code points. */
export function cleanDisplayText(text: string, maxChars: number): string {
  const cleaned = text.replace(UNSAFE_CHARS, '').trim();
  // Cut by code points, never inside a surrogate pair.
  const points = Array.from(cleaned);
  return points.length > maxChars ? points.slice(0, maxChars).join('').trim() : cleaned;
}

/** A string cut to maxChars for a log line or a stored diagnostic, saying how much was left out. */
export function truncateForLog(text: string, maxChars = 2_000): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}… [${text.length - maxChars} more characters cut]`;
}
